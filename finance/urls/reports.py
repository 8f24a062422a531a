"""Finance's reports: aged debtors (with each debtor's invoices) and income by programme."""

from django.urls import URLPattern, path

from finance.views import reports as views

urlpatterns: list[URLPattern] = [
    path("reports/aged-debtors/", views.aged_debtors_view, name="aged_debtors"),
    path(
        "reports/aged-debtors/<str:kind>/<int:pk>/",
        views.aged_debtor_view,
        name="aged_debtor",
    ),
    path("reports/income/", views.income_view, name="income"),
]
