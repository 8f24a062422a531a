"""The results pages' forms. The gradebook is a grid of plain inputs named
`cell-<course enrolment>-<column>` (columns: the recorded assessments by index, each named in
a hidden `type-<index>`, then `new`, whose name is typed in `type-new`), read here into what
gradebook_save takes."""

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from accounts.models import User
from delivery.selectors.results import Gradebook
from enrolments.models import ProgrammeOutcome

NEW = "new"


STALE = "The gradebook changed while you were typing: reload it."


def gradebook_cells(data: QueryDict, book: Gradebook) -> dict[tuple[int, str], str]:
    """The grid as posted: (course enrolment, assessment) to the cell's text. A new column's
    cells count once it is named. Refused when a posted column is not the assessment the
    gradebook has at its place now (someone recorded another meanwhile): a cell must never
    land in another assessment's column."""
    new_type = str(data.get("type-new", "")).strip()
    columns = [(str(index), name) for index, name in enumerate(book.assessment_types)]
    posted_types = {
        key.removeprefix("type-"): str(value)
        for key, value in data.items()
        if key.startswith("type-") and key != "type-new"
    }
    if any(dict(columns).get(key) != name for key, name in posted_types.items()):
        raise ValidationError(STALE, code="gradebook_changed")
    cells: dict[tuple[int, str], str] = {}
    unnamed = False
    for row in book.rows:
        pk = row.enrolment.pk
        for key, name in columns:
            field = f"cell-{pk}-{key}"
            if field in data:
                if key not in posted_types:
                    raise ValidationError(STALE, code="gradebook_changed")
                cells[(pk, name)] = str(data[field])
        text = str(data.get(f"cell-{pk}-{NEW}", ""))
        if new_type:
            cells[(pk, new_type)] = text
        elif text.strip():
            unnamed = True
    if unnamed:
        raise ValidationError(
            "Name the new assessment (its column's heading) before entering its results.",
            code="type_missing",
        )
    return cells


def cells_seen(data: QueryDict, book: Gradebook) -> dict[tuple[int, str], str]:
    """What the cells of the recorded columns showed when the page was opened (each posted
    back as `was-cell-...`), keyed as gradebook_cells keys the cells."""
    shown = QueryDict(mutable=True)
    for key, value in data.items():
        if key.startswith("was-cell-"):
            shown[key.removeprefix("was-")] = str(value)
        elif key.startswith("type-") and key != f"type-{NEW}":
            shown[key] = str(value)
    return gradebook_cells(shown, book)


def posted_values(data: QueryDict) -> dict[str, str]:
    """The grid's inputs as typed, to show again when a save is refused."""
    return {
        key: str(value)
        for key, value in data.items()
        if key.startswith(("cell-", "type-", "was-cell-"))
    }


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="Reason for voiding",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Required. It stays in the result's history.",
    )


class ModeratorForm(forms.Form):
    moderator = forms.ModelChoiceField(
        queryset=User.objects.none(),
        empty_label="Choose a moderator",
        help_text="People with the moderator role; the run's trainer cannot moderate it.",
    )

    def __init__(self, *args, candidates=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if candidates is not None:
            cast(forms.ModelChoiceField, self.fields["moderator"]).queryset = candidates


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("", "Choose an outcome"), *ProgrammeOutcome.choices])
    completion_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="When the learner finished or left (a withdrawal: today if empty).",
    )


class CohortOutcomesForm(forms.Form):
    completion_date = forms.DateField(
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date recorded for each learner whose results allow an outcome.",
    )
