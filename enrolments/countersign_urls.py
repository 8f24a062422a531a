from django.urls import path

from enrolments import countersign_views as views

app_name = "countersign"

urlpatterns = [
    path("", views.countersign, name="list"),
    path("<int:pk>/", views.countersign_progress, name="progress"),
    path("preview/<int:pk>/", views.countersign_preview, name="preview"),
]
