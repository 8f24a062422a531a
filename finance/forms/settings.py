"""The finance settings form: the FinanceSettings fields with their help; the service checks
the currency and saves."""

from typing import Any

from django import forms

from finance.models import FinanceSettings
from finance.services.settings import SETTINGS_FIELDS


class FinanceSettingsForm(forms.ModelForm):
    class Meta:
        model = FinanceSettings
        fields = list(SETTINGS_FIELDS)
        widgets = {"payment_details": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "vat_number": "Printed on every invoice; with it, invoices read “Tax invoice”.",
            "financial_year_start_month": "Invoice numbers start again at 1 each financial year, "
            "named by the calendar year it ends in: with March, 1 March 2026 – 28 February 2027 "
            "is 2027, and its invoices are INV-2027-00001 onwards.",
            "invoice_due_days": "How long a recipient has to pay, counted from the day an "
            "invoice is issued.",
            "currency": "The three-letter ISO 4217 code new invoices are drafted in, e.g. ZAR.",
            "payment_details": "Bank, branch code, account number and anything else a payer "
            "needs; printed on every invoice.",
        }

    def service_arguments(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
