"""The logbook pages' forms: a day's entry, an evidence photo or document, the mentor's review
of a week, and naming a placement's mentor."""

import datetime
from decimal import Decimal
from typing import Any

from django import forms

from academics.models import Outcome
from accounts.models import User
from placements.models import Placement
from workplace.selectors.logbook import mentor_candidates
from workplace.selectors.outcomes import placement_outcomes
from workplace.services.evidence import EVIDENCE_MAX_SIZE_MB
from workplace.services.logbook import HOURS_OUT_OF_RANGE


class OutcomeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.title}"


class EntryForm(forms.Form):
    """A day's work. The dates offered are the placement's days up to today (the service
    checks them again, with the day's total hours)."""

    entry_date = forms.DateField(
        label="Day",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    hours = forms.DecimalField(
        label="Hours",
        min_value=Decimal("0.25"),
        max_value=Decimal("24"),
        max_digits=4,
        decimal_places=2,
        help_text="Hours worked that day, in quarter hours (e.g. 7.5).",
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}),
        error_messages={
            "min_value": HOURS_OUT_OF_RANGE,
            "max_value": HOURS_OUT_OF_RANGE,
            "max_digits": HOURS_OUT_OF_RANGE,
            "max_decimal_places": "Give the hours in quarter hours (such as 7.25, 7.5 or 7.75).",
            "invalid": "Give the hours as a number, such as 7.5.",
        },
    )
    tasks = forms.CharField(
        label="What you did",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The tasks you did that day, in a few sentences.",
    )
    outcomes = OutcomeChoiceField(
        label="Outcomes practised",
        queryset=Outcome.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick the outcomes this work let you practise (optional).",
    )

    def __init__(
        self,
        *args: Any,
        placement: Placement,
        first: datetime.date | None = None,
        last: datetime.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        outcomes = self.fields["outcomes"]
        assert isinstance(outcomes, forms.ModelMultipleChoiceField)  # noqa: S101 (for mypy)
        outcomes.queryset = placement_outcomes(placement)
        attrs = self.fields["entry_date"].widget.attrs
        if first is not None:
            attrs["min"] = first.isoformat()
        if last is not None:
            attrs["max"] = last.isoformat()


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(
        label="Photo or document",
        help_text=f"A photo (JPEG or PNG) or a PDF of at most {EVIDENCE_MAX_SIZE_MB} MB that "
        "shows the work.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,image/*"}),
    )


class ReviewForm(forms.Form):
    """The mentor's decision on a handed-in week: the comment is needed to return it."""

    decision = forms.ChoiceField(
        choices=[("confirm", "Confirm the week"), ("return", "Return to the learner")],
        widget=forms.HiddenInput,
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed to return the week: say what to correct. The learner reads it.",
    )


class MentorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} ({obj.email})"


class MentorForm(forms.Form):
    mentor = MentorChoiceField(
        label="Mentor",
        queryset=User.objects.none(),
        empty_label="Choose a member of the organisation",
        help_text="The organisation's members who can sign in: the mentor confirms the "
        "learner's logbook weeks.",
    )

    def __init__(self, *args: Any, placement: Placement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["mentor"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 (for mypy)
        field.queryset = mentor_candidates(placement)
