"""The payments pages' forms: the list's filters; recording a payment received with what of it
goes to each of the party's open invoices; allocating a payment's credit later; failing and
refunding a payment. The forms parse fields; the services check the rules."""

from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from academics.currencies import money_text
from accounts.lists import FilterForm
from finance.models import Invoice, PaymentDirection, PaymentPurpose, PaymentStatus
from partners.models import PaymentMethod

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
AMOUNT_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})


def refusal_show(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal beside the field it names, above the form otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class PaymentFilterForm(FilterForm):
    party = forms.CharField(label="Party or reference", required=False, max_length=100)
    direction = forms.ChoiceField(
        label="Direction", required=False, choices=[("", "In and out"), *PaymentDirection.choices]
    )
    purpose = forms.ChoiceField(
        label="Purpose", required=False, choices=[("", "Any purpose"), *PaymentPurpose.choices]
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *PaymentStatus.choices]
    )
    date_from = forms.DateField(label="Paid from", required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label="Paid until", required=False, widget=DATE_INPUT)

    selector_names: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["party"].widget.attrs["placeholder"] = "Payer, payee or reference"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "Give an end date on or after the start date.")
        return cleaned


class PartyChoiceForm(forms.Form):
    """The first step of recording a payment: who paid."""

    party = forms.ChoiceField(
        label="Received from",
        help_text="The sponsor, learner or partner who paid. Their open invoices come next.",
    )

    def __init__(self, *args: Any, choices: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["party"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Choose who paid"), *choices]
        self.fields["party"].widget.attrs["class"] = "form-select"


def allocation_field_name(invoice: Invoice) -> str:
    return f"invoice_{invoice.pk}"


class PaymentReceiveForm(forms.Form):
    """A payment received from one party, and an amount for each of their open invoices
    (`invoices`, each with `owed`). Left empty, the amounts settle the oldest invoices first."""

    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=AMOUNT_INPUT,
        help_text="As it arrived, in whole cents.",
    )
    currency = forms.CharField(
        max_length=3, help_text="The three-letter code, e.g. ZAR.", initial="ZAR"
    )
    paid_on = forms.DateField(label="Paid on", widget=DATE_INPUT, help_text="As on the bank.")
    method = forms.ChoiceField(choices=PaymentMethod.choices, initial=PaymentMethod.EFT)
    reference = forms.CharField(
        max_length=100,
        required=False,
        help_text="What the payer wrote, e.g. the invoice number; it helps find the payment.",
    )
    status = forms.ChoiceField(
        choices=[
            (PaymentStatus.COMPLETED, "Completed: the money is in the account"),
            (PaymentStatus.PENDING, "Pending: on its way (a debit order, a card settlement)"),
        ],
        initial=PaymentStatus.COMPLETED,
        widget=forms.RadioSelect,
        help_text="A pending payment is set against invoices once you mark it completed.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(
        self, *args: Any, invoices: list[Invoice], currency: str = "ZAR", **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {"currency": currency, "paid_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.invoices = invoices
        for invoice in invoices:
            self.fields[allocation_field_name(invoice)] = forms.DecimalField(
                label=f"For {invoice.number}",
                required=False,
                max_digits=14,
                decimal_places=2,
                min_value=Decimal(0),
                widget=AMOUNT_INPUT,
                help_text=f"Owes {money_text(invoice.owed, invoice.currency)}.",  # type: ignore[attr-defined]
            )

    def allocation_fields(self) -> list[tuple[Invoice, forms.BoundField]]:
        return [(invoice, self[allocation_field_name(invoice)]) for invoice in self.invoices]

    def clean_currency(self) -> str:
        currency: str = self.cleaned_data["currency"].strip().upper()
        return currency

    def allocations_given(self) -> list[tuple[Invoice, Decimal]]:
        """The amounts typed for invoices (none when all were left empty)."""
        return [
            (invoice, self.cleaned_data[allocation_field_name(invoice)])
            for invoice in self.invoices
            if self.cleaned_data.get(allocation_field_name(invoice))
        ]

    def any_allocation_typed(self) -> bool:
        return any(
            self.cleaned_data.get(allocation_field_name(invoice)) is not None
            for invoice in self.invoices
        )


class InvoiceChoiceForm(forms.Form):
    """A choice of one of `invoices` (each annotated with what it `owed`)."""

    invoice = forms.ChoiceField(label="Invoice")
    empty_label: ClassVar[str] = ""

    def __init__(self, *args: Any, invoices: list[Invoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invoices = {str(invoice.pk): invoice for invoice in invoices}
        field = self.fields["invoice"]
        assert isinstance(field, forms.ChoiceField)
        empty = [("", self.empty_label)] if self.empty_label else []
        field.choices = empty + [(str(i.pk), self.invoice_label(i)) for i in invoices]
        field.widget.attrs["class"] = "form-select"

    def invoice_label(self, invoice: Invoice) -> str:
        owed = money_text(invoice.owed, invoice.currency)  # type: ignore[attr-defined]
        return f"{invoice.number}, due {invoice.due_on:%-d %b %Y}, owes {owed}"

    def chosen_invoice(self) -> Invoice:
        return self.invoices[self.cleaned_data["invoice"]]


class AllocationAddForm(InvoiceChoiceForm):
    """Set some of a payment's credit against one of its party's open invoices."""

    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=AMOUNT_INPUT,
        help_text="At most what the invoice owes and what the payment has unallocated.",
    )


class PaymentFailForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=500,
        help_text="E.g. the debit order bounced: insufficient funds.",
    )


class PaymentRefundForm(forms.Form):
    refunded_on = forms.DateField(
        label="Refunded on", widget=DATE_INPUT, help_text="The day the money went back."
    )
    reference = forms.CharField(
        max_length=100, required=False, help_text="The bank's reference for the refund."
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        help_text="Why the money is given back. Kept in the audit trail.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"refunded_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
