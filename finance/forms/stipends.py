"""The stipend pages' forms: a rate, a month's run, marking it paid, cancelling it, a learner's
new bank details, and the lists' filters. The forms parse each field; finance.services.stipends
(and partners.services.bank) check the whole."""

import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms

from academics.models import Programme
from accounts.lists import FilterForm
from finance.models import StipendPayer, StipendRunStatus
from finance.selectors.stipends import LINE_SHOWS, stipend_rate_learner_choices
from learners.models import Learner
from partners.forms.bank import BankDetailsForm as PartnerBankDetailsForm
from partners.models import BankAccountType

MONTH_INPUT = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MonthField(forms.DateField):
    """A month (YYYY-MM, as a month picker sends it), as the first day of that month."""

    widget = MONTH_INPUT
    input_formats = ["%Y-%m", "%Y-%m-%d"]
    default_error_messages = {"invalid": "Give a month, such as 2027-03."}

    def to_python(self, value: Any) -> datetime.date | None:
        day = super().to_python(value)
        return day.replace(day=1) if day else None


class LearnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} (learner {obj.pk})"


class ProgrammeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


class StipendRateForm(forms.Form):
    subject = forms.ChoiceField(
        label="The rate is for",
        choices=[
            ("programme", "Every learner of a programme"),
            ("learner", "One learner (wins over their programme's rate)"),
        ],
        initial="programme",
        widget=forms.RadioSelect,
    )
    programme = ProgrammeChoiceField(
        queryset=Programme.objects.none(),
        required=False,
        empty_label="Choose a programme",
        help_text="Its learners on a learnership cohort are paid this every month.",
    )
    learner = LearnerChoiceField(
        queryset=Learner.objects.none(),
        required=False,
        empty_label="Choose a learner",
        help_text="Learners on a learnership cohort.",
    )
    monthly_amount = forms.DecimalField(
        label="Monthly amount",
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        help_text="In rand and cents, before deductions for unexcused absences. 0 ends a "
        "stipend from that month.",
    )
    paid_through = forms.ChoiceField(
        label="Paid by",
        choices=StipendPayer.choices,
        initial=StipendPayer.INSTITUTION,
        widget=forms.RadioSelect,
        help_text="The institution pays through its bank file; a sponsor pays its learners itself.",
    )
    starts_on = MonthField(
        label="From",
        help_text="The first month it applies to. It replaces the programme's (or learner's) "
        "earlier rate from then on; the earlier one stays in the history.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["programme"]).queryset = Programme.objects.filter(
            is_active=True
        ).order_by("name", "code")
        cast(
            forms.ModelChoiceField, self.fields["learner"]
        ).queryset = stipend_rate_learner_choices()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        subject = cleaned.get("subject")
        if subject == "programme" and not cleaned.get("programme"):
            self.add_error("programme", "Choose the programme.")
        if subject == "learner" and not cleaned.get("learner"):
            self.add_error("learner", "Choose the learner.")
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        by_programme = data["subject"] == "programme"
        return {
            "programme": data["programme"] if by_programme else None,
            "learner": None if by_programme else data["learner"],
            "monthly_amount": data["monthly_amount"],
            "paid_through": data["paid_through"],
            "starts_on": data["starts_on"],
        }


class StipendRunForm(forms.Form):
    month = MonthField(
        help_text="Learners on a learnership that month with a stipend rate are listed, less "
        "their unexcused absences of that month."
    )


class MarkPaidForm(forms.Form):
    paid_on = forms.DateField(
        label="Paid on",
        widget=DATE_INPUT,
        help_text="The date the bank paid the file, as on the bank statement.",
    )
    leave_out_unbanked = forms.BooleanField(required=False)

    def __init__(self, *args: Any, unbanked: int = 0, **kwargs: Any) -> None:
        """`unbanked`: how many learners the institution pays have no bank details; the
        confirmation that they are left out is asked only then."""
        super().__init__(*args, **kwargs)
        if unbanked:
            people = f"{unbanked} learner{'s' if unbanked > 1 else ''}"
            self.fields[
                "leave_out_unbanked"
            ].label = f"Leave out the {people} without bank details; they are not paid this month"
            self.fields["leave_out_unbanked"].help_text = (
                "Tick this only if they are not to be paid for this month. Otherwise confirm "
                "their bank details, download the bank file again and have the bank pay it."
            )
        else:
            del self.fields["leave_out_unbanked"]

    def service_arguments(self) -> dict[str, Any]:
        return {
            "paid_on": self.cleaned_data["paid_on"],
            "leave_out_unbanked": self.cleaned_data.get("leave_out_unbanked", False),
        }


class CancelForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="Kept with the run, e.g. “Attendance for March was corrected”.",
        error_messages={"required": "Say why the run is cancelled."},
    )


class BankDetailsForm(PartnerBankDetailsForm):
    """A learner's new bank details: the partners' form (the account number is never written
    back into the page), worded for a learner, a savings account first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "holder"
        ].help_text = "The name the bank has on the account (usually the learner's)."
        self.fields["account_type"].initial = BankAccountType.SAVINGS


class RateFilterForm(FilterForm):
    q = forms.CharField(label="Search", required=False, max_length=100)
    kind = forms.ChoiceField(
        label="For",
        required=False,
        choices=[
            ("", "Programmes and learners"),
            ("programme", "Programmes"),
            ("learner", "Learners"),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Programme or learner"


class RunFilterForm(FilterForm):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *StipendRunStatus.choices]
    )


class LineFilterForm(FilterForm):
    q = forms.CharField(label="Search", required=False, max_length=100)
    show = forms.ChoiceField(
        label="Show", required=False, choices=[("", "Every line"), *LINE_SHOWS]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Learner's name"
