"""Forms of the distance search, the matching page and urgent requests. A centre is a learner
(their recorded coordinates) or a point typed in; coordinates are never guessed."""

import datetime
from typing import Any, cast

from django import forms
from django.utils import timezone

from academics.models import AcademicYear
from learners.models import Learner
from placements.models import (
    Appetite,
    PlacementSubject,
    SubjectPhase,
    UrgentAnswer,
    UrgentPlacementInvite,
    latitude_validators,
    longitude_validators,
)
from placements.selectors.distance import Point
from placements.selectors.locations import learner_point
from placements.selectors.search import (
    academic_year_default,
    learners_named,
    subjects_for_choice,
)

MAX_RADIUS_KM = 500
DEFAULT_RADIUS_KM = 25


class SubjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        subject = cast(PlacementSubject, obj)
        return f"{subject.name} ({subject.get_phase_display()}, {subject.code})"


def _year_field(required: bool = True) -> "forms.ModelChoiceField[AcademicYear]":
    return forms.ModelChoiceField(
        queryset=AcademicYear.objects.order_by("-starts_on"),
        required=required,
        label="Academic year",
        empty_label=None,
    )


def _radius_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="Radius (km)",
        min_value=1,
        max_value=MAX_RADIUS_KM,
        required=False,
        help_text=f"Up to {MAX_RADIUS_KM} km; {DEFAULT_RADIUS_KM} km if left empty.",
        error_messages={
            "min_value": "The radius must be at least 1 km.",
            "max_value": f"The radius can be at most {MAX_RADIUS_KM} km.",
            "invalid": "Enter the radius as a whole number of km.",
        },
    )


class CentreForm(forms.Form):
    """A learner (found by name, or by id once chosen) or a point. `centre()` is the point to
    search from once the form is valid; `location_problem` names a learner whose coordinates
    cannot be used (missing or flagged), so that the page can say so and link to them."""

    learner_name = forms.CharField(
        label="Learner", required=False, max_length=100, help_text="Type part of their name."
    )
    learner = forms.IntegerField(required=False, widget=forms.HiddenInput)
    latitude = forms.FloatField(
        required=False,
        validators=latitude_validators,
        help_text="Or a point: latitude, e.g. -26.2041.",
        error_messages={"invalid": "Enter the latitude as a number of degrees, e.g. -26.2041."},
    )
    longitude = forms.FloatField(
        required=False,
        validators=longitude_validators,
        help_text="And longitude, e.g. 28.0473.",
        error_messages={"invalid": "Enter the longitude as a number of degrees, e.g. 28.0473."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chosen_learner: Learner | None = None
        self.candidates: list[Learner] = []
        self.location_problem: Learner | None = None
        self._point: Point | None = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        latitude, longitude = data.get("latitude"), data.get("longitude")
        has_point = latitude is not None or longitude is not None
        learner = self._learner(data)
        if self.errors:
            return data
        if learner is not None and has_point:
            raise forms.ValidationError("Search around a learner or a point, not both.")
        if learner is None:
            if latitude is None or longitude is None:
                raise forms.ValidationError(
                    "Choose a learner, or enter both a latitude and a longitude."
                )
            self._point = Point(latitude, longitude)
            return data
        self.chosen_learner = learner
        point, why_not = learner_point(learner)
        if point is None:
            self.location_problem = learner
            raise forms.ValidationError(
                f"Cannot search around {learner.full_name}'s home. {why_not}"
            )
        self._point = point
        return data

    def _learner(self, data: dict[str, Any]) -> Learner | None:
        name = (data.get("learner_name") or "").strip()
        if data.get("learner"):
            learner = Learner.objects.filter(pk=data["learner"]).first()
            if learner is None:
                self.add_error("learner_name", "That learner is not in the institution.")
                return None
            # The learner chosen from a list, unless the name was changed since to another's.
            full_name = learner.full_name.lower()
            if all(word in full_name for word in name.lower().split()):
                return learner
        if not name:
            return None
        found = learners_named(name)
        if not found:
            self.add_error("learner_name", f"No learner's name contains “{name}”.")
            return None
        if len(found) > 1:
            self.candidates = found
            self.add_error("learner_name", "Several learners match: choose one below.")
            return None
        return found[0]

    def centre(self) -> Point:
        assert self._point is not None, "centre() needs a valid form"
        return self._point

    def centre_label(self) -> str:
        if self.chosen_learner is not None:
            return f"{self.chosen_learner.full_name}'s home"
        point = self.centre()
        return f"{point.latitude:.4f}, {point.longitude:.4f}"


class SearchForm(CentreForm):
    radius_km = _radius_field()
    academic_year = _year_field(required=False)
    subject = SubjectChoiceField(
        queryset=subjects_for_choice(),
        required=False,
        empty_label="Any subject",
        help_text="A broad subject includes the subjects under it.",
    )
    phase = forms.ChoiceField(choices=[("", "Any phase"), *SubjectPhase.choices], required=False)
    appetite = forms.MultipleChoiceField(
        choices=Appetite.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="None ticked: every organisation, whatever it answered.",
    )

    field_order = [
        "learner_name",
        "learner",
        "latitude",
        "longitude",
        "radius_km",
        "academic_year",
        "subject",
        "phase",
        "appetite",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_year = academic_year_default()
        if self.default_year is not None:
            self.fields["academic_year"].initial = self.default_year.pk

    def clean_academic_year(self) -> AcademicYear:
        year = self.cleaned_data.get("academic_year") or self.default_year
        if year is None:
            raise forms.ValidationError("Add an academic year first: searches are by year.")
        return year

    def radius(self) -> int:
        return self.cleaned_data.get("radius_km") or DEFAULT_RADIUS_KM


class MatchingForm(forms.Form):
    """What the matching page matches on: a subject, a year and a radius."""

    subject = SubjectChoiceField(queryset=subjects_for_choice(), empty_label="Choose a subject")
    academic_year = _year_field()
    radius_km = _radius_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default_year = academic_year_default()
        if default_year is not None:
            self.fields["academic_year"].initial = default_year.pk

    def radius(self) -> int:
        return self.cleaned_data.get("radius_km") or DEFAULT_RADIUS_KM


class ProposeForm(forms.Form):
    """The dates of the placements proposed in bulk; the pairs come as `pair` values
    "<learner id>:<organisation id>"."""

    starts_on = forms.DateField(label="Starts on", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Ends on", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The placement cannot end before it starts.")
        return data


def pairs_parse(values: list[str]) -> list[tuple[int, int]] | None:
    """The chosen (learner id, organisation id) pairs, or None when one is not a pair."""
    pairs = []
    for value in values:
        learner, _, organisation = value.partition(":")
        if not (learner.isdigit() and organisation.isdigit()):
            return None
        pairs.append((int(learner), int(organisation)))
    return pairs


class UrgentRequestForm(CentreForm):
    subject = SubjectChoiceField(queryset=subjects_for_choice(), empty_label="Choose a subject")
    phase = forms.ChoiceField(choices=SubjectPhase.choices)
    academic_year = _year_field()
    starts_on = forms.DateField(label="Starts on", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Ends on", widget=forms.DateInput(attrs={"type": "date"}))
    places = forms.IntegerField(min_value=1, max_value=500, label="Places needed")
    radius_km = _radius_field()
    message = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything organisations should know: the learners, the hours, transport.",
    )

    field_order = [
        "subject",
        "phase",
        "academic_year",
        "starts_on",
        "ends_on",
        "places",
        "learner_name",
        "learner",
        "latitude",
        "longitude",
        "radius_km",
        "message",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "learner_name"
        ].help_text = "The centre: a learner's home (type part of their name), or a point below."
        default_year = academic_year_default()
        if default_year is not None:
            self.fields["academic_year"].initial = default_year.pk

    def radius(self) -> int:
        return self.cleaned_data.get("radius_km") or DEFAULT_RADIUS_KM


class UrgentAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        choices=[
            (UrgentAnswer.CAN_HOST, "We can host"),
            (UrgentAnswer.CANNOT_HOST, "We cannot host"),
        ],
        widget=forms.RadioSelect,
        label="Your answer",
    )
    places_offered = forms.IntegerField(
        required=False, min_value=1, label="Places you can offer", help_text="If you can host."
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E.g. who will mentor, or when you could host instead.",
    )

    def __init__(self, *args: Any, invite: UrgentPlacementInvite, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invite = invite
        asked = invite.request.places
        field = cast(forms.IntegerField, self.fields["places_offered"])
        field.max_value = asked
        field.widget.attrs["max"] = asked
        field.help_text = f"If you can host: 1 to {asked}."
        if invite.answer:
            self.initial = {
                "answer": invite.answer,
                "places_offered": invite.places_offered,
                "note": invite.note,
            }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        asked = self.invite.request.places
        offered = data.get("places_offered")
        if data.get("answer") == UrgentAnswer.CAN_HOST:
            if offered is None and "places_offered" not in self.errors:
                self.add_error("places_offered", "Say how many places you can offer.")
            elif offered is not None and offered > asked:
                self.add_error(
                    "places_offered", f"{asked} places are asked for: offer {asked} or fewer."
                )
        return data


def dates_default(year: AcademicYear | None) -> dict[str, datetime.date]:
    """Dates offered on the proposal form: from today (or the year's start) to the year's
    end."""
    if year is None:
        return {}
    today = timezone.localdate()
    return {"starts_on": max(today, year.starts_on), "ends_on": year.ends_on}
