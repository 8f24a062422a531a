from django.urls import URLPattern, path

from delivery.views import certificates as views

urlpatterns: list[URLPattern] = [
    path("certificates/", views.certificate_index, name="certificates"),
    path("certificates/templates/", views.certificate_templates, name="certificate_templates"),
    path(
        "certificates/templates/<str:kind>/",
        views.certificate_template_edit,
        name="certificate_template_edit",
    ),
    path(
        "certificates/templates/<str:kind>/preview.pdf",
        views.certificate_template_preview,
        name="certificate_template_preview",
    ),
    path(
        "certificates/cohorts/<int:cohort_pk>/",
        views.cohort_certificates,
        name="cohort_certificates",
    ),
    path(
        "certificates/cohorts/<int:cohort_pk>/learners/<int:enrollment_pk>/issue/",
        views.certificate_issue_view,
        name="certificate_issue",
    ),
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate"),
    path("certificates/<int:pk>/certificate.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("certificates/<int:pk>/revoke/", views.certificate_revoke_view, name="certificate_revoke"),
    path(
        "certificates/<int:pk>/reissue/", views.certificate_reissue_view, name="certificate_reissue"
    ),
    path("my/certificates/", views.my_certificates, name="my_certificates"),
    path(
        "my/certificates/<int:pk>/certificate.pdf",
        views.my_certificate_pdf,
        name="my_certificate_pdf",
    ),
    path(
        "my/certificates/transcript/<int:enrollment_pk>.pdf",
        views.my_transcript,
        name="my_transcript",
    ),
]
