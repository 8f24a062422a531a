from django.urls import path

from verification import views

app_name = "verification"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("approve/", views.bulk_approve, name="bulk_approve"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("documents/<int:pk>/file/", views.document_file, name="document_file"),
    path("enrolments/<int:pk>/", views.enrollment_detail, name="enrollment"),
]
