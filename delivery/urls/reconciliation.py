"""Reconciling a cohort's delivery with the training gateway."""

from django.urls import path

from delivery.views import reconciliation

urlpatterns = [
    path(
        "reconciliation/",
        reconciliation.reconciliation_cohorts,
        name="reconciliation_cohorts",
    ),
    path(
        "cohorts/<int:pk>/reconciliation/",
        reconciliation.reconciliation,
        name="reconciliation",
    ),
    path(
        "cohorts/<int:pk>/reconciliation/resend/",
        reconciliation.reconciliation_resend_view,
        name="reconciliation_resend",
    ),
]
