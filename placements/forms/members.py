"""Forms of the members' area: adding a member, a year's placement preference (appetite, a
formset of subject rows, a formset of date windows, notes) and a subject of the tree."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory

from placements.models import Appetite, PlacementPreference, PlacementSubject, SubjectPhase
from placements.preferences import MAX_NOTES, MAX_PLACES
from placements.selectors.members import subject_tree

# Blank rows offered under those already filled in (no script needed to add one).
EXTRA_ROWS = 2


class MembershipAddForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    full_name = forms.CharField(
        label="Full name",
        max_length=200,
        required=False,
        help_text="Needed only for someone without an account here: they are sent an "
        "invitation to set a password.",
    )


class PreferenceForm(forms.Form):
    appetite = forms.ChoiceField(
        label="Will the organisation host learners this year?",
        choices=Appetite.choices,
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        required=False,
        max_length=MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything the institution should know: parking, a mentor's availability, …",
    )


def _subject_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [
        (
            row.subject.code,
            f"{'· ' * row.depth}{row.subject.name} ({row.subject.get_phase_display()})",
        )
        for row in subject_tree(active_only=True)
    ]


class PlacesRowForm(forms.Form):
    """One subject and how many places in it. The phase is the subject's own (each subject of
    the tree belongs to one phase)."""

    subject = forms.ChoiceField(required=False, choices=())
    places = forms.IntegerField(required=False, min_value=1, max_value=MAX_PLACES)

    def __init__(self, *args: Any, subject_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        subject = self.fields["subject"]
        assert isinstance(subject, forms.ChoiceField)
        subject.choices = subject_choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        subject, places = data.get("subject"), data.get("places")
        if subject and places is None and "places" not in self.errors:
            self.add_error("places", "Give the number of places.")
        if places is not None and not subject:
            self.add_error("subject", "Choose the subject these places are in.")
        return data

    @property
    def filled(self) -> bool:
        return bool(self.cleaned_data.get("subject"))


class WindowRowForm(forms.Form):
    starts_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and not ends_on and "ends_on" not in self.errors:
            self.add_error("ends_on", "Give the last day of the window.")
        if ends_on and not starts_on and "starts_on" not in self.errors:
            self.add_error("starts_on", "Give the first day of the window.")
        return data

    @property
    def filled(self) -> bool:
        return bool(self.cleaned_data.get("starts_on") and self.cleaned_data.get("ends_on"))


PlacesFormSet = formset_factory(PlacesRowForm, extra=EXTRA_ROWS)
WindowFormSet = formset_factory(WindowRowForm, extra=EXTRA_ROWS)


class PreferenceForms:
    """The preference page's form and its two formsets, bound together, and the details they
    give as placements.preferences reads them. A complaint from the service lands on the row,
    field or form it is about."""

    def __init__(self, data: Any | None, preference: PlacementPreference | None) -> None:
        details = preference.placement_details if preference else {}
        phases = dict(SubjectPhase.choices)
        self.form = PreferenceForm(
            data,
            initial={
                "appetite": preference.appetite if preference else "",
                "notes": details.get("notes", ""),
            },
        )
        choices = _subject_choices()
        known = {code for code, _ in choices}
        # A subject deactivated since the preference was set stays listed on its row, so that
        # the complaint about it is seen beside it.
        for line in details.get("places", []):
            if line["subject"] not in known:
                label = f"{line['subject']} ({phases.get(line['phase'], line['phase'])})"
                choices.append((line["subject"], label))
        self.places = PlacesFormSet(
            data,
            prefix="places",
            initial=[
                {"subject": line["subject"], "places": line["places"]}
                for line in details.get("places", [])
            ],
            form_kwargs={"subject_choices": choices},
        )
        self.windows = WindowFormSet(
            data,
            prefix="windows",
            initial=[
                {"starts_on": window["starts_on"], "ends_on": window["ends_on"]}
                for window in details.get("windows", [])
            ],
        )
        self._places_rows: list[PlacesRowForm] = []
        self._window_rows: list[WindowRowForm] = []

    def is_valid(self) -> bool:
        valid = all([self.form.is_valid(), self.places.is_valid(), self.windows.is_valid()])
        if valid:
            self._places_rows = [row for row in self.places if row.filled]
            self._window_rows = [row for row in self.windows if row.filled]
        return valid

    @property
    def appetite(self) -> str:
        return str(self.form.cleaned_data["appetite"])

    def details(self) -> dict[str, Any]:
        """The filled-in rows as placements.preferences' structure (blank rows left out)."""
        phases = dict(
            PlacementSubject.objects.filter(
                code__in=[row.cleaned_data["subject"] for row in self._places_rows]
            ).values_list("code", "phase")
        )
        return {
            "places": [
                {
                    "subject": row.cleaned_data["subject"],
                    "phase": phases.get(row.cleaned_data["subject"], ""),
                    "places": row.cleaned_data["places"],
                }
                for row in self._places_rows
            ],
            "windows": [
                {
                    "starts_on": row.cleaned_data["starts_on"].isoformat(),
                    "ends_on": row.cleaned_data["ends_on"].isoformat(),
                }
                for row in self._window_rows
            ],
            "notes": self.form.cleaned_data["notes"],
        }

    def refusal_show(self, error: ValidationError) -> None:
        """Put each of the service's complaints where it belongs (see
        placements.services.preferences.details_errors_located)."""
        if not hasattr(error, "error_dict"):
            self.form.add_error(None, error)
            return
        for key, errors in error.error_dict.items():
            kind, _, index = key.partition("-")
            if kind == "places" and index.isdigit():
                self._places_rows[int(index)].add_error(None, errors)
            elif kind == "windows" and index.isdigit():
                self._window_rows[int(index)].add_error(None, errors)
            elif key in self.form.fields:
                self.form.add_error(key, errors)
            else:
                self.form.add_error(None, errors)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.form.errors
            or any(row.errors for row in self.places)
            or any(row.errors for row in self.windows)
            or self.places.non_form_errors()
            or self.windows.non_form_errors()
        )


class SubjectForm(forms.Form):
    """A subject's fields; placements.services.subjects checks the tree (no cycle, one phase)."""

    name = forms.CharField(max_length=100)
    code = forms.CharField(max_length=20, help_text="Short and unique, e.g. MATH.")
    phase = forms.ChoiceField(choices=SubjectPhase.choices)
    parent = forms.ModelChoiceField(
        queryset=PlacementSubject.objects.none(),
        required=False,
        empty_label="None: at the top of the tree",
        help_text="The broader subject it is part of, of the same phase.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        parent.queryset = PlacementSubject.objects.filter(is_active=True).order_by("phase", "name")

    @classmethod
    def for_subject(cls, data: Any | None, subject: PlacementSubject) -> "SubjectForm":
        return cls(
            data,
            initial={
                "name": subject.name,
                "code": subject.code,
                "phase": subject.phase,
                "parent": subject.parent_id,
            },
        )
