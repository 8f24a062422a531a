"""The staff and learner pages of delivery, one module per area, under one namespace."""

from delivery.urls import attendance, certificates, fees, reconciliation, results, runs

app_name = "delivery"
urlpatterns = [
    *runs.urlpatterns,
    *attendance.urlpatterns,
    *results.urlpatterns,
    *certificates.urlpatterns,
    *reconciliation.urlpatterns,
    *fees.urlpatterns,
]
