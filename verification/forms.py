import time
from typing import cast

from django import forms
from django.core import signing

from accounts.lists import FilterForm
from accounts.models import User
from verification.reasons import rejection_reasons
from verification.selectors import queue_cohort_choices, queue_document_type_choices

WAITING_CHOICES = [
    ("", "Any waiting time"),
    ("1", "Waiting over a day"),
    ("3", "Waiting over 3 days"),
    ("7", "Waiting over a week"),
]
OPENED_SALT = "verification.review-opened"


class CountedChoiceField(forms.ModelChoiceField):
    """A choice of cohort or document type, labelled with how many documents wait in it."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.waiting or 0})"


class QueueFilterForm(FilterForm):
    """The queue's filters. Cohorts are only those the reviewer may see: another cohort's id is
    not a valid choice."""

    selector_names = {"waiting": "waiting_days"}

    cohort = CountedChoiceField(queryset=None, required=False, empty_label="All my cohorts")
    document_type = CountedChoiceField(
        queryset=None, required=False, empty_label="Every document type"
    )
    waiting = forms.TypedChoiceField(
        choices=WAITING_CHOICES, required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cohort = cast(forms.ModelChoiceField, self.fields["cohort"])
        cohort.queryset = queue_cohort_choices(user=user)
        document_type = cast(forms.ModelChoiceField, self.fields["document_type"])
        document_type.queryset = queue_document_type_choices(user=user)


def opened_token() -> str:
    """When the review page was shown, signed, so that the decision can record the time spent."""
    return signing.dumps(int(time.time()), salt=OPENED_SALT)


def seconds_since(token: str) -> int | None:
    try:
        opened = signing.loads(token, salt=OPENED_SALT, max_age=24 * 60 * 60)
    except (signing.BadSignature, TypeError):
        return None
    return max(0, int(time.time()) - int(opened))


class DecisionForm(forms.Form):
    """Approve, or reject with a reason: one of the common reasons for the document type, the
    reviewer's own words, or both (the student reads them together)."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    common_reason = forms.ChoiceField(label="Reason", required=False)
    details = forms.CharField(
        label="In your own words",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The student reads this. Enter sends, Shift+Enter starts a new line.",
    )
    opened = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, document_type_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        reasons = rejection_reasons(document_type_name)
        cast(forms.ChoiceField, self.fields["common_reason"]).choices = [
            ("", "Choose a common reason…"),
            *((reason, reason) for reason in reasons),
        ]
        self.fields["common_reason"].widget.attrs["class"] = "form-select"
        self.fields["details"].widget.attrs["class"] = "form-control"
        if not self.is_bound:
            self.initial["opened"] = opened_token()

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == "approve"

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("decision") == "reject" and not self.reason():
            self.add_error(
                "details", "Say why the document is rejected: choose a reason or write one."
            )
        return cleaned

    def reason(self) -> str:
        parts = [self.cleaned_data.get("common_reason", ""), self.cleaned_data.get("details", "")]
        return " ".join(part.strip() for part in parts if part and part.strip())

    def seconds_spent(self) -> int | None:
        return seconds_since(self.cleaned_data.get("opened") or "")


class DocumentIdsField(forms.Field):
    """Ticked document ids (checkboxes of the same name). The view looks them up in the
    reviewer's own queue, which drops any other id."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        try:
            return sorted({int(item) for item in value or []})
        except (TypeError, ValueError):
            raise forms.ValidationError("Tick the documents to approve.") from None


class BulkApproveForm(forms.Form):
    documents = DocumentIdsField(error_messages={"required": "Tick the documents to approve."})
