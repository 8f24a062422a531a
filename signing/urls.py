"""Admin pages for agreement templates (under agreements/)."""

from django.urls import path

from signing import views

app_name = "signing"

urlpatterns = [
    path("", views.template_list, name="template_list"),
    path("new/", views.template_create_view, name="template_create"),
    path("body-preview/", views.template_body_preview, name="template_body_preview"),
    path("<int:pk>/", views.template_edit, name="template_edit"),
    path("<int:pk>/preview.pdf", views.template_preview, name="template_preview"),
    path("sent/<int:pk>/signed.pdf", views.submission_final, name="submission_final"),
]
