from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report_index, name="index"),
    path("definitions/<int:pk>/", views.definition_edit, name="definition_edit"),
    path("definitions/<int:pk>/delete/", views.definition_delete, name="definition_delete"),
    path("definitions/<int:pk>/run/", views.definition_run, name="definition_run"),
    path("runs/<int:pk>/", views.execution_detail, name="execution"),
    path("runs/<int:pk>/status/", views.execution_status, name="execution_status"),
    path("runs/<int:pk>/download/", views.execution_download, name="execution_download"),
    path("<slug:key>/", views.report_detail, name="report"),
    path("<slug:key>/save/", views.definition_create, name="definition_create"),
]
