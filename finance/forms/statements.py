"""The bank statement pages' forms: uploading a statement, and for a line that needs a person,
matching it to an invoice or setting it aside."""

from typing import ClassVar

from django import forms

from academics.currencies import money_text
from finance.forms.payments import InvoiceChoiceForm
from finance.models import Invoice


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label="Bank statement (CSV)",
        help_text="Exported from your bank's site, at most 2 MB, with the columns Date, "
        "Description, Reference and Amount (a minus for money going out). Dates as YYYY-MM-DD "
        "or DD/MM/YYYY; amounts with a comma or a dot for cents.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class LineMatchForm(InvoiceChoiceForm):
    """Match a line to one of the open invoices."""

    invoice = forms.ChoiceField(
        label="Invoice",
        help_text="It is recorded as this invoice's payment, up to what the invoice owes; the "
        "rest stays as the payer's credit.",
    )
    empty_label: ClassVar[str] = "Choose the invoice it pays"

    def invoice_label(self, invoice: Invoice) -> str:
        owed = money_text(invoice.owed, invoice.currency)  # type: ignore[attr-defined]
        return f"{invoice.number} · {invoice.recipient_name} · owes {owed}"


class LineIgnoreForm(forms.Form):
    reason = forms.CharField(
        label="Why set it aside",
        max_length=500,
        help_text="E.g. interest, or a transfer between the institution's own accounts.",
    )
