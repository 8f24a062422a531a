"""The invoice pages' forms: the list's filters, a draft's recipient and header, its lines (a
formset: rows are added by asking for more and removed by ticking them, without scripts), the
lines a credit note takes back, and the reason an invoice is void. The forms parse each field;
finance.services.invoices and credit_notes check the whole document."""

from decimal import Decimal
from typing import Any, ClassVar, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.http import QueryDict

from accounts.lists import FilterForm
from delivery.models import CourseEnrollment
from finance.models import DocumentKind, Invoice, InvoiceLine, InvoiceStatus
from finance.selectors.invoices import (
    RECIPIENT_TYPES,
    learners_for_invoicing,
    partners_for_invoicing,
    sponsors_for_invoicing,
)
from finance.services.invoices import MAX_LINES, LineInput, Recipient
from learners.models import Learner
from partners.models import Partner
from sponsors.models import Sponsor

NEW_ROWS = 3  # blank rows a new draft starts with, and how many "More lines" adds


class InvoiceFilterForm(FilterForm):
    q = forms.CharField(label="Search", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *InvoiceStatus.choices]
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Invoices and credit notes"), *DocumentKind.choices],
    )
    recipient_type = forms.ChoiceField(
        label="Recipient", required=False, choices=[("", "Any recipient"), *RECIPIENT_TYPES]
    )

    selector_names: ClassVar[dict[str, str]] = {"q": "search"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Number or recipient"


def recipient_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Sponsors, learners and active partners, grouped, as "sponsor-<id>" and so on."""
    return [
        (
            "Sponsors",
            [(f"sponsor-{s.pk}", s.company_name) for s in sponsors_for_invoicing()],
        ),
        (
            "Learners",
            [(f"learner-{lr.pk}", lr.full_name or lr.email) for lr in learners_for_invoicing()],
        ),
        (
            "Partners",
            [(f"partner-{p.pk}", f"{p.name} ({p.code})") for p in partners_for_invoicing()],
        ),
    ]


def recipient_key(invoice: Invoice) -> str:
    for name in ("sponsor", "learner", "partner"):
        if getattr(invoice, f"{name}_id"):
            return f"{name}-{getattr(invoice, f'{name}_id')}"
    return ""


class InvoiceHeaderForm(forms.Form):
    """Who a draft is to (not for a credit note: its invoice's recipient), the recipient's
    order number and the notes printed on it."""

    recipient = forms.ChoiceField(
        help_text="A sponsor, a learner or a partner. Their name, address and tax number are "
        "printed as they are when the invoice is issued."
    )
    reference = forms.CharField(
        label="Their reference",
        max_length=100,
        required=False,
        help_text="The recipient's order number, if they gave one.",
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="Printed on the invoice, under the totals.",
    )

    def __init__(self, *args: Any, invoice: Invoice | None = None, **kwargs: Any) -> None:
        if invoice is not None:
            kwargs.setdefault(
                "initial",
                {
                    "recipient": recipient_key(invoice),
                    "reference": invoice.reference,
                    "notes": invoice.notes,
                },
            )
        super().__init__(*args, **kwargs)
        self.is_credit_note = invoice is not None and invoice.kind == DocumentKind.CREDIT_NOTE
        if self.is_credit_note:
            del self.fields["recipient"]
        else:
            field: forms.ChoiceField = self.fields["recipient"]  # type: ignore[assignment]
            field.choices = [("", "Choose who pays"), *recipient_choices()]

    def clean_recipient(self) -> Recipient:
        kind, _, pk = self.cleaned_data["recipient"].partition("-")
        models: dict[str, type[Sponsor] | type[Learner] | type[Partner]] = {
            "sponsor": Sponsor,
            "learner": Learner,
            "partner": Partner,
        }
        model = models.get(kind)
        party = model.objects.filter(pk=pk).first() if model and pk.isdigit() else None
        if party is None:
            raise ValidationError("Choose who the invoice is to.")
        return Recipient(**{kind: party})  # type: ignore[arg-type]


class LineForm(forms.Form):
    description = forms.CharField(
        max_length=300, widget=forms.TextInput(attrs={"placeholder": "What it is for"})
    )
    quantity = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        initial=Decimal(1),
        error_messages={"min_value": "Give a quantity above zero."},
    )
    unit_price = forms.DecimalField(
        label="Unit price",
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        error_messages={
            "min_value": "Give a price of 0 or more.",
            "max_decimal_places": "Give the price in whole cents.",
        },
    )
    vat_applies = forms.BooleanField(label="VAT", required=False, initial=True)
    course_enrollment = forms.ModelChoiceField(
        queryset=CourseEnrollment.objects.all(), required=False, widget=forms.HiddenInput
    )


class BaseLineFormSet(BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if form.has_changed() and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise ValidationError("Add at least one line: what it is for and its price.")

    def lines(self) -> list[LineInput]:
        return [
            LineInput(
                description=form.cleaned_data["description"],
                unit_price=form.cleaned_data["unit_price"],
                quantity=form.cleaned_data["quantity"],
                vat_applies=form.cleaned_data["vat_applies"],
                course_enrollment=form.cleaned_data.get("course_enrollment"),
            )
            for form in self.forms
            if form.has_changed() and not form.cleaned_data.get("DELETE")
        ]


LineFormSet = formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_LINES,
    validate_max=True,
    absolute_max=MAX_LINES,
)


def line_initial(line: InvoiceLine) -> dict[str, Any]:
    return {
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "vat_applies": line.vat_applies,
        "course_enrollment": line.course_enrollment_id,
    }


def line_formset(
    data: QueryDict | None = None, *, invoice: Invoice | None = None
) -> BaseLineFormSet:
    """The lines of a new draft (blank rows) or of `invoice`'s draft (its lines and one blank
    row), bound to `data` when sent. `data` with "more" gives the rows sent, unbound, and
    NEW_ROWS blank rows more."""
    if data is not None and "more" in data:
        sent = LineFormSet(data, prefix="lines")
        rows = [
            {name: form[name].value() for name in ("description", "quantity", "unit_price")}
            | {
                "vat_applies": bool(form["vat_applies"].value()),
                "course_enrollment": form["course_enrollment"].value() or None,
            }
            for form in sent.forms
            if form["description"].value() or form["unit_price"].value()
        ]
        return _with_blank_rows(rows, NEW_ROWS)
    if data is not None:
        return cast(BaseLineFormSet, LineFormSet(data, prefix="lines"))
    if invoice is not None:
        return _with_blank_rows([line_initial(line) for line in invoice.lines.all()], 1)
    return _with_blank_rows([], NEW_ROWS)


def _with_blank_rows(rows: list[dict[str, Any]], blank: int) -> BaseLineFormSet:
    formset_class = formset_factory(
        LineForm,
        formset=BaseLineFormSet,
        extra=blank,
        can_delete=True,
        max_num=MAX_LINES,
        absolute_max=MAX_LINES,
    )
    return cast(BaseLineFormSet, formset_class(initial=rows, prefix="lines"))


class CreditLineForm(forms.Form):
    """One line of the invoice, and how much of it the credit note takes back."""

    include = forms.BooleanField(label="Credit", required=False, initial=True)
    quantity = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"min_value": "Give a quantity above zero."},
    )

    def __init__(self, *args: Any, line: InvoiceLine, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"include": True, "quantity": line.quantity})
        super().__init__(*args, **kwargs)
        self.line = line
        self.fields["quantity"].help_text = f"At most {line.quantity.normalize():f}."

    def clean_quantity(self) -> Decimal:
        quantity: Decimal = self.cleaned_data["quantity"]
        if quantity > self.line.quantity:
            raise ValidationError(
                f"At most {self.line.quantity.normalize():f}, the quantity invoiced."
            )
        return quantity


class CreditForm(forms.Form):
    notes = forms.CharField(
        label="Why it is credited",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="Printed on the credit note, e.g. “Learner withdrew in March”.",
    )


def credit_line_forms(invoice: Invoice, data: QueryDict | None = None) -> list[CreditLineForm]:
    return [
        CreditLineForm(data, line=line, prefix=f"line-{line.pk}") for line in invoice.lines.all()
    ]


def credit_lines_chosen(forms_: list[CreditLineForm]) -> list[LineInput]:
    return [
        LineInput(
            description=form.line.description,
            unit_price=form.line.unit_price,
            quantity=form.cleaned_data["quantity"],
            vat_applies=form.line.vat_applies,
            course_enrollment=form.line.course_enrollment,
        )
        for form in forms_
        if form.cleaned_data.get("include")
    ]


class VoidForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Kept with the invoice and in the audit trail, e.g. “Issued to the wrong "
        "sponsor”.",
        error_messages={"required": "Say why the invoice is void: it is kept with it."},
    )
