"""The portfolio pages' forms: adding evidence (a logbook entry, an observation report or a
document), an assessor's decision, the queue's filter and a mentor's observation report. The
services check everything again; the forms shape input and say what is missing."""

from typing import Any

from django import forms
from django.db.models import QuerySet

from academics.models import Outcome
from accounts.lists import FilterForm
from delivery.models import CourseRun
from workplace.models import Decision, LogbookEntry, ObservationReport
from workplace.services.evidence import EVIDENCE_MAX_SIZE_MB

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EntryEvidenceForm(forms.Form):
    entry = forms.ModelChoiceField(queryset=LogbookEntry.objects.none())

    def __init__(self, *args: Any, entries: QuerySet[LogbookEntry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entry"].queryset = entries  # type: ignore[attr-defined]
        self.fields["entry"].error_messages["invalid_choice"] = (
            "Choose one of your confirmed logbook entries listed here."
        )


class ObservationEvidenceForm(forms.Form):
    observation = forms.ModelChoiceField(queryset=ObservationReport.objects.none())

    def __init__(
        self, *args: Any, observations: QuerySet[ObservationReport], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["observation"].queryset = observations  # type: ignore[attr-defined]
        self.fields["observation"].error_messages["invalid_choice"] = (
            "Choose one of the observation reports listed here."
        )


class DocumentEvidenceForm(forms.Form):
    title = forms.CharField(
        label="What it shows",
        required=False,
        max_length=200,
        help_text="For example: lesson plan for Grade 9, 12 March. The file's name if left empty.",
    )
    file = forms.FileField(
        label="Document",
        help_text=f"A PDF, JPEG or PNG of at most {EVIDENCE_MAX_SIZE_MB} MB: a photo taken "
        "with your phone will do.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class AssessForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision", choices=Decision.choices, widget=forms.RadioSelect
    )
    feedback = forms.CharField(
        label="Feedback to the learner",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Required for not yet competent: what is missing and what to add.",
    )


class QueueFilterForm(FilterForm):
    course_run = forms.ModelChoiceField(
        label="Course run",
        required=False,
        queryset=CourseRun.objects.none(),
        empty_label="Every course run",
    )

    def __init__(self, *args: Any, runs: QuerySet[CourseRun], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course_run"].queryset = runs  # type: ignore[attr-defined]


class ObservationForm(forms.Form):
    outcome = forms.ModelChoiceField(
        queryset=Outcome.objects.none(),
        empty_label="Choose the outcome",
        help_text="The outcome of the learner's programme the work showed.",
    )
    observed_on = forms.DateField(
        label="Observed on",
        widget=DATE_INPUT,
        help_text="Within the placement's dates, not in the future.",
    )
    report = forms.CharField(
        label="What you observed",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What the learner did, how well, and anything they should work on.",
    )

    def __init__(self, *args: Any, outcomes: QuerySet[Outcome], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["outcome"]
        field.queryset = outcomes  # type: ignore[attr-defined]
        field.label_from_instance = (  # type: ignore[attr-defined]
            lambda outcome: f"{outcome.code} {outcome.title}"
        )
