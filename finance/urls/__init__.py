"""Finance's pages, one module per area: the overview and settings, invoices and credit notes,
fees owed, payments and bank statements, reports, commissions and partners' statements,
stipends and grant claims."""

from finance.urls import (
    commissions,
    fees,
    grants,
    invoices,
    overview,
    payments,
    reports,
    settings,
    statements,
    stipends,
)

app_name = "finance"

urlpatterns = [
    *overview.urlpatterns,
    *settings.urlpatterns,
    *invoices.urlpatterns,
    *fees.urlpatterns,
    *payments.urlpatterns,
    *statements.urlpatterns,
    *reports.urlpatterns,
    *commissions.urlpatterns,
    *stipends.urlpatterns,
    *grants.urlpatterns,
]
