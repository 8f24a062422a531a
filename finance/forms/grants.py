"""The grant pages' forms: the agreements list's and the claims' filters, an agreement, and
the confirmation of an action on chosen claims (its date, reference or reason). The forms
parse each field; finance.services.grants checks the whole (the reference taken, the claims'
states, their evidence)."""

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.lists import FilterForm
from finance.models import GrantAgreement, GrantClaimStatus, GrantMilestone
from finance.selectors.grants import grant_cohort_choices
from finance.services.grants import AgreementInput

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AgreementFilterForm(FilterForm):
    q = forms.CharField(label="Search", required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "SETA, reference or cohort"


class ClaimFilterForm(FilterForm):
    q = forms.CharField(label="Search", required=False, max_length=100)
    milestone = forms.ChoiceField(
        label="Milestone", required=False, choices=[("", "Any milestone"), *GrantMilestone.choices]
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *GrantClaimStatus.choices]
    )

    selector_names: ClassVar[dict[str, str]] = {"q": "search"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Learner's name or e-mail"


class RefusalShown(forms.Form):
    def refusal_show(self, error: ValidationError) -> None:
        """The service's refusal, each message beside the field it names (above the form
        otherwise)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class CohortChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.start_date:%-d %b %Y} to {obj.end_date:%-d %b %Y})"


def _amount(label: str, help_text: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=14, decimal_places=2, min_value=0, initial=0, help_text=help_text
    )


class AgreementForm(RefusalShown):
    cohort = CohortChoiceField(
        queryset=grant_cohort_choices(),
        empty_label="Choose a cohort",
        help_text="The cohort whose learners the grant pays for.",
    )
    seta = forms.CharField(
        label="SETA", max_length=100, help_text="The SETA that awarded the grant, e.g. MICT SETA."
    )
    reference = forms.CharField(
        label="Agreement reference",
        max_length=100,
        help_text="The SETA's number for the grant agreement; one agreement per number.",
    )
    registration_amount = _amount(
        "Per learner at registration", "Paid for each learner who starts the programme."
    )
    midpoint_amount = _amount(
        "Per learner at mid-point", "Paid for each learner still in the programme half-way."
    )
    completion_amount = _amount(
        "Per learner at completion", "Paid for each learner who completes the programme."
    )
    currency = forms.CharField(
        max_length=3,
        initial="ZAR",
        help_text="Three-letter ISO 4217 code; the SETA pays in rand (ZAR) as a rule.",
    )

    def __init__(self, *args: Any, agreement: GrantAgreement | None = None, **kwargs: Any):
        if agreement is not None:
            kwargs.setdefault(
                "initial",
                {
                    name: getattr(agreement, name)
                    for name in (
                        "cohort",
                        "seta",
                        "reference",
                        "registration_amount",
                        "midpoint_amount",
                        "completion_amount",
                        "currency",
                    )
                },
            )
        super().__init__(*args, **kwargs)
        self.agreement = agreement

    def data_input(self) -> AgreementInput:
        return AgreementInput(**self.cleaned_data)


class ClaimAction:
    """What can be done to chosen claims: from which status, and the button's words."""

    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    PAY = "pay"
    REJECT = "reject"

    SOURCES: ClassVar[dict[str, str]] = {
        SUBMIT: GrantClaimStatus.DUE,
        RESUBMIT: GrantClaimStatus.REJECTED,
        PAY: GrantClaimStatus.SUBMITTED,
        REJECT: GrantClaimStatus.SUBMITTED,
    }
    TITLES: ClassVar[dict[str, str]] = {
        SUBMIT: "Submit claims to the SETA",
        RESUBMIT: "Submit rejected claims again",
        PAY: "Mark claims paid",
        REJECT: "Record the SETA's rejection",
    }
    BUTTONS: ClassVar[dict[str, str]] = {
        SUBMIT: "Submit claims",
        RESUBMIT: "Submit again",
        PAY: "Mark paid",
        REJECT: "Reject claims",
    }


def claims_chosen(data: Any) -> list[int]:
    """The claim ids ticked on the agreement page (`claim`, repeated), those that are numbers;
    the agreement's selector keeps only its own."""
    return sorted({int(value) for value in data.getlist("claim") if str(value).isdigit()})


class ClaimActionForm(RefusalShown):
    """What the confirmation asks for each action: the date submitted, the SETA's payment
    (date and reference) or the reason it rejected the claims."""

    submitted_on = forms.DateField(
        label="Submitted on",
        widget=DATE_INPUT,
        help_text="The day the claims went to the SETA (today or earlier).",
    )
    paid_on = forms.DateField(
        label="Paid on",
        widget=DATE_INPUT,
        help_text="The day the SETA's payment reached the bank (today or earlier).",
    )
    reference = forms.CharField(
        label="Payment reference",
        max_length=100,
        help_text="As on the bank statement, so the payment can be matched.",
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="What the SETA said: it is kept on each claim until they are submitted again.",
    )

    FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {
        ClaimAction.SUBMIT: ("submitted_on",),
        ClaimAction.RESUBMIT: ("submitted_on",),
        ClaimAction.PAY: ("paid_on", "reference"),
        ClaimAction.REJECT: ("reason",),
    }

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"submitted_on": timezone.localdate(), "paid_on": timezone.localdate()}
        )
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in self.FIELDS[action]:
                del self.fields[name]
