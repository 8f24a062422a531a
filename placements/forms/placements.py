"""The placement pages' forms: the list's filters, proposing one placement, and the reasons and
notes a transition asks for."""

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from academics.models import AcademicYear
from accounts.lists import FilterForm
from cohorts.models import Cohort, CohortState
from learners.models import Learner
from placements.models import (
    Organisation,
    OrganisationContact,
    PlacementStatus,
    PlacementSubject,
    UrgentPlacementRequest,
)
from placements.services.placements import Proposal


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlacementFilterForm(FilterForm):
    q = forms.CharField(label="Search learners", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *PlacementStatus.choices]
    )
    organisation = forms.ModelChoiceField(
        label="Organisation",
        required=False,
        queryset=Organisation.objects.order_by("name"),
        empty_label="Any organisation",
    )
    cohort = forms.ModelChoiceField(
        label="Cohort",
        required=False,
        queryset=Cohort.objects.order_by("-start_date", "name"),
        empty_label="Any cohort",
    )
    academic_year = forms.ModelChoiceField(
        label="Academic year",
        required=False,
        queryset=AcademicYear.objects.order_by("-starts_on"),
        empty_label="Any year",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Learner's name or e-mail"


class MatchCohortForm(forms.Form):
    """The placement list's way to the matching page: a running cohort whose learners to
    match (the matching page's address names the cohort)."""

    match = forms.ModelChoiceField(
        label="Match a cohort's learners",
        queryset=Cohort.objects.filter(state=CohortState.ACTIVE).order_by("-start_date", "name"),
        empty_label="Choose an active cohort",
        error_messages={
            "required": "Choose an active cohort to match its learners.",
            "invalid_choice": "That cohort is not running any more: choose an active cohort.",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["match"].widget.attrs["class"] = "form-select"


class LearnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        learner = cast(Learner, obj)
        return f"{learner.full_name} ({learner.email})" if learner.email else learner.full_name


class SupervisorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        contact = cast(OrganisationContact, obj)
        role = f", {contact.role}" if contact.role else ""
        return f"{contact.full_name}{role} ({contact.organisation})"


def _cohorts() -> QuerySet[Cohort]:
    return Cohort.objects.exclude(state=CohortState.CANCELLED).order_by("-start_date")


def _contacts() -> QuerySet[OrganisationContact]:
    return OrganisationContact.objects.select_related("organisation").order_by(
        "organisation__name", "last_name", "first_name"
    )


class PlacementForm(forms.Form):
    """Propose one placement. The supervisor is one of the organisation's contacts: once the
    organisation is known (prefilled, or chosen and sent), only its contacts are offered."""

    learner = LearnerChoiceField(queryset=Learner.objects.order_by("first_name", "last_name"))
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(is_active=True).order_by("name")
    )
    cohort = forms.ModelChoiceField(
        queryset=_cohorts(),
        empty_label="Choose the learner's cohort",
        help_text="The cohort whose workplace component this is (the learner must be enrolled "
        "in it): its programme decides the vetting the learner needs before the placement is "
        "confirmed.",
        error_messages={"required": "Choose the cohort whose workplace component this is."},
    )
    academic_year = forms.ModelChoiceField(queryset=AcademicYear.objects.order_by("-starts_on"))
    subject = forms.ModelChoiceField(
        queryset=PlacementSubject.objects.filter(is_active=True).order_by("phase", "name"),
        help_text="The organisation's places are counted per subject and year.",
    )
    starts_on = forms.DateField(label="Starts on", widget=_date())
    ends_on = forms.DateField(label="Ends on", widget=_date())
    supervisor = SupervisorChoiceField(
        queryset=_contacts(),
        required=False,
        empty_label="Not named yet",
        help_text="The person at the organisation who looks after the learner.",
    )
    # Set from the urgent request page's link: the organisation answered it "can host".
    urgent_request = forms.ModelChoiceField(
        queryset=UrgentPlacementRequest.objects.all(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation_id = (self.data.get("organisation") if self.is_bound else None) or (
            self.initial.get("organisation")
        )
        if organisation_id and str(organisation_id).isdigit():
            field = cast(forms.ModelChoiceField, self.fields["supervisor"])
            field.queryset = _contacts().filter(organisation_id=organisation_id)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The placement cannot end before it starts.")
        year = data.get("academic_year")
        if year and starts_on and not year.starts_on <= starts_on <= year.ends_on:
            self.add_error("starts_on", f"Choose a day within the academic year {year}.")
        if year and ends_on and not year.starts_on <= ends_on <= year.ends_on:
            self.add_error("ends_on", f"Choose a day within the academic year {year}.")
        return data

    def proposal(self) -> Proposal:
        data = self.cleaned_data
        return Proposal(
            learner=data["learner"],
            organisation=data["organisation"],
            cohort=data["cohort"],
            academic_year=data["academic_year"],
            subject=data["subject"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            supervisor=data["supervisor"],
            urgent_request=data["urgent_request"],
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Give a reason."},
    )


class CancelReasonForm(ReasonForm):
    """The institution's own reason for withdrawing a proposal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = (
            "Internal: kept for the institution's staff. Neither the organisation nor the "
            "learner sees it."
        )


class TerminateReasonForm(ReasonForm):
    """The institution's own reason for ending a placement early."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = (
            "Internal to the institution: the organisation does not see it. The learner's own "
            "page says why their placement ended."
        )


class OutcomeForm(forms.Form):
    outcome_notes = forms.CharField(
        label="Outcome notes",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="How the placement went: what the learner did, the supervisor's view.",
        error_messages={"required": "Say how the placement went."},
    )
