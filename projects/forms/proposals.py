"""The proposal's forms: the short one that starts a draft and the whole one the proposer fills
in (saved as they type). What a person may choose as programme and cohort is offered here and
checked again by projects.services.proposals."""

from typing import Any

from django import forms

from academics.models import Programme
from accounts.models import User
from cohorts.models import CLOSED_STATES, Cohort
from projects.models import InnovationProject, ProjectKind
from projects.services.proposals import is_restricted_to_own_cohorts, learner_cohorts


class CohortChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.programme.name})" if obj.programme else obj.name


class _PlacementMixin(forms.Form):
    """Programme and cohort as `user` may choose them: a learner one of their cohorts (its
    programme comes with it), and a programme too when one of their cohorts has none or they
    are in none; staff any of both."""

    def placement_fields(self, user: User) -> None:
        programme = self.fields["programme"]
        cohort = self.fields["cohort"]
        assert isinstance(programme, forms.ModelChoiceField)  # noqa: S101 (for mypy)
        assert isinstance(cohort, forms.ModelChoiceField)  # noqa: S101 (for mypy)
        programme.queryset = Programme.objects.order_by("name")
        if is_restricted_to_own_cohorts(user):
            own = learner_cohorts(user)
            if own.exists():
                cohort.queryset = own
                cohort.required = True
                cohort.empty_label = None
                cohort.help_text = "Your cohort: the project is reviewed by its programme's panel."
                if own.filter(programme__isnull=True).exists():
                    programme.help_text = (
                        "Only for a cohort that belongs to no programme: the programme whose "
                        "review panel reviews the project. Any other cohort brings its own."
                    )
                else:
                    del self.fields["programme"]
            else:
                del self.fields["cohort"]
        else:
            cohort.queryset = (
                Cohort.objects.filter(programme__isnull=False, archived_at__isnull=True)
                .exclude(state__in=CLOSED_STATES)
                .select_related("programme")
                .order_by("programme__name", "-start_date")
            )
        for name, field in self.fields.items():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", "form-select" if is_select else "form-control")
            field.widget.attrs["aria-describedby"] = f"help-{name} error-{name}"


class ProposalStartForm(_PlacementMixin):
    """A title and the kind of project: enough to start the draft."""

    title = forms.CharField(
        max_length=255, help_text="A short name for the project; you can change it later."
    )
    kind = forms.ChoiceField(choices=ProjectKind.choices, initial=ProjectKind.OTHER)
    programme = forms.ModelChoiceField(
        queryset=Programme.objects.none(),
        required=False,
        help_text="The programme whose review panel reviews it.",
    )
    cohort = CohortChoiceField(queryset=Cohort.objects.none(), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.placement_fields(user)


class ProposalForm(_PlacementMixin, forms.ModelForm):
    """The whole proposal. Nothing but the title is needed to save it; a field in error is left
    out of the save and the rest is kept."""

    class Meta:
        model = InnovationProject
        fields = [
            "title",
            "kind",
            "programme",
            "cohort",
            "description",
            "problem_statement",
            "objectives",
            "expected_outcomes",
            "start_date",
            "end_date",
        ]
        help_texts = {
            "title": "A short name for the project.",
            "description": "The project in a few sentences: what it is and who it is for.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "problem_statement": forms.Textarea(attrs={"rows": 4}),
            "objectives": forms.Textarea(attrs={"rows": 4}),
            "expected_outcomes": forms.Textarea(attrs={"rows": 4}),
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cohort = self.fields["cohort"]
        self.fields["cohort"] = CohortChoiceField(
            queryset=Cohort.objects.none(), required=False, help_text=cohort.help_text
        )
        self.fields["start_date"].help_text = "When the work would begin."
        self.fields["end_date"].help_text = "When it would be done."
        self.placement_fields(user)

    def _post_clean(self) -> None:
        """No model validation: the service saves a draft as it stands."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            # Neither date is saved until they agree; the rest of the proposal is.
            self.add_error("end_date", "The end date comes before the start date.")
            cleaned.pop("start_date", None)
        return cleaned

    def valid_values(self) -> dict[str, Any]:
        """The fields that passed their checks, to save (call after is_valid)."""
        return {name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data}
