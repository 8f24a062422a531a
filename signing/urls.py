"""Admin pages for agreement templates and the agreements sent from them (under agreements/)."""

from django.urls import path

from signing import views

app_name = "signing"

urlpatterns = [
    path("", views.template_list, name="template_list"),
    path("new/", views.template_create_view, name="template_create"),
    path("body-preview/", views.template_body_preview, name="template_body_preview"),
    path("<int:pk>/", views.template_edit, name="template_edit"),
    path("<int:pk>/preview.pdf", views.template_preview, name="template_preview"),
    path("sent/", views.submission_list, name="submission_list"),
    path("sent/<int:pk>/", views.submission_detail, name="submission_detail"),
    path("sent/<int:pk>/resend/", views.submission_resend_view, name="submission_resend"),
    path("sent/<int:pk>/revoke/", views.submission_revoke_view, name="submission_revoke"),
    path("sent/<int:pk>/original.pdf", views.submission_original, name="submission_original"),
    path("sent/<int:pk>/signed.pdf", views.submission_final, name="submission_final"),
]
