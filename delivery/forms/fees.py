"""The fee form finance fills in for a programme or one learner in a run."""

from decimal import Decimal
from typing import Any

from django import forms

from academics.models import Programme
from delivery.models import CourseEnrollment
from delivery.services.fees import Fee


class FeeForm(forms.Form):
    fee_amount = forms.DecimalField(
        label="Fee",
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        help_text="Leave empty for no fee set yet; 0 for a free place.",
    )
    fee_currency = forms.CharField(
        label="Currency",
        max_length=3,
        initial="ZAR",
        help_text="Its three-letter ISO 4217 code, such as ZAR or USD.",
    )
    subsidy_info = forms.CharField(
        label="Subsidy",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Who pays what, as the gateway is told, e.g. "MICT SETA discretionary grant, '
        '90%".',
    )

    @classmethod
    def for_record(cls, data: Any, record: Programme | CourseEnrollment) -> "FeeForm":
        """The form for the fee a programme or a course enrolment has now."""
        return cls(
            data,
            initial={
                "fee_amount": record.fee_amount,
                "fee_currency": record.fee_currency,
                "subsidy_info": record.subsidy_info,
            },
        )

    def fee(self) -> Fee:
        data = self.cleaned_data
        return Fee(data["fee_amount"], data["fee_currency"], data["subsidy_info"])
