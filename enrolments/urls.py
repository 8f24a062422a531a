from django.urls import path

from enrolments import views

app_name = "enrolments"

urlpatterns = [
    path("", views.my_enrolments, name="my_enrolments"),
    path("<int:pk>/", views.enrollment_detail, name="detail"),
    path("<int:pk>/details/", views.enrollment_details, name="details"),
    path(
        "<int:pk>/documents/<int:document_type_pk>/upload/",
        views.document_upload,
        name="document_upload",
    ),
    path("<int:pk>/files/<int:document_pk>/", views.document_file, name="document_file"),
    path("<int:pk>/agreement/", views.enrollment_agreement, name="agreement"),
    path("<int:pk>/agreement/signed.pdf", views.enrollment_agreement_pdf, name="agreement_pdf"),
    path("<int:pk>/agreements/<int:template_pk>/", views.supporting_agreement, name="supporting"),
    path(
        "<int:pk>/agreements/<int:template_pk>/signed.pdf",
        views.supporting_agreement_pdf,
        name="supporting_pdf",
    ),
]
