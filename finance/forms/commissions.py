"""The commissions pages' forms: the list's filters, cancelling a commission, and a payout
(which commissions, how and when they were paid). The forms parse each field;
finance.services.commissions checks the whole payout (still owed, one currency, a bank
account for a transfer)."""

import datetime
from typing import Any, ClassVar, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from accounts.lists import FilterForm
from finance.models import Commission, CommissionStatus
from partners.models import Partner, PaymentMethod

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH_FORMAT = "%Y-%m"


class MonthField(forms.DateField):
    """A month as the browser's month input sends it (2027-03): its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format=MONTH_FORMAT)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", [MONTH_FORMAT])
        kwargs.setdefault(
            "error_messages", {"invalid": "Give a month as year and month, e.g. 2027-03."}
        )
        super().__init__(**kwargs)


class CommissionFilterForm(FilterForm):
    partner = forms.ModelChoiceField(
        label="Partner", required=False, queryset=Partner.objects.none(), empty_label="Any partner"
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *CommissionStatus.choices]
    )
    month = MonthField(label="Accrued in", required=False)

    selector_names: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partner = cast(forms.ModelChoiceField, self.fields["partner"])
        partner.queryset = Partner.objects.order_by("name", "pk")


class CommissionCancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is it no longer owed?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit trail, e.g. the placement was terminated before it began.",
        error_messages={"required": "Say why the commission is no longer owed."},
    )


class PayoutForm(forms.Form):
    """The commissions a payout settles and how they were paid. Any of the partner's
    commissions may be chosen (`commissions`): the service refuses, audited, one no longer
    owed, as when the form is sent twice."""

    commissions = forms.ModelMultipleChoiceField(
        queryset=Commission.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "One of the commissions chosen is not this partner's.",
        },
    )
    method = forms.ChoiceField(
        label="Paid by",
        choices=PaymentMethod.choices,
        help_text="A bank transfer goes to the partner's confirmed bank account.",
    )
    paid_on = forms.DateField(
        label="Paid on", widget=DATE_INPUT, help_text="The day the money left the account."
    )
    reference = forms.CharField(
        max_length=100,
        required=False,
        help_text="As on the bank statement, so the payout can be found there.",
    )
    notes = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args: Any, partner: Partner, commissions: QuerySet[Commission], **kwargs: Any
    ) -> None:
        kwargs.setdefault(
            "initial", {"method": partner.payment_method, "paid_on": timezone.localdate()}
        )
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelMultipleChoiceField, self.fields["commissions"])
        field.queryset = commissions

    def clean_paid_on(self) -> datetime.date:
        paid_on: datetime.date = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise ValidationError("A payout is recorded once made: the date cannot be ahead.")
        return paid_on

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "commission_ids": [commission.pk for commission in data["commissions"]],
            "method": data["method"],
            "paid_on": data["paid_on"],
            "reference": data["reference"],
            "notes": data["notes"],
        }
