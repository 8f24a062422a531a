"""Finance's fees pages."""

from django.urls import path

from delivery.views import fees

urlpatterns = [
    path("fees/", fees.fees_home, name="fees"),
    path("fees/programmes/<int:pk>/", fees.programme_fee_edit, name="fee_programme"),
    path("fees/runs/<int:pk>/", fees.run_fees, name="fee_run"),
    path(
        "fees/runs/<int:pk>/learners/<int:enrolment_pk>/",
        fees.enrolment_fee_edit,
        name="fee_enrolment",
    ),
    path("fees/runs/<int:pk>/apply/", fees.run_programme_fee_apply, name="fee_apply"),
]
