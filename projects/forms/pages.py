from django import forms

from academics.models import Programme
from accounts.lists import FilterForm
from cohorts.models import Cohort
from projects.models import ProjectStatus


class PortfolioFilterForm(FilterForm):
    """The portfolio's filters: one programme, one cohort, or both."""

    programme = forms.ModelChoiceField(
        queryset=Programme.objects.order_by("name"), required=False, empty_label="All programmes"
    )
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.order_by("-start_date", "name"),
        required=False,
        empty_label="All cohorts",
    )


class ProjectFilterForm(PortfolioFilterForm):
    """The projects list's filters and search (title or leader's name)."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title or leader"}),
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *ProjectStatus.choices], required=False)

    field_order = ["q", "status", "programme", "cohort"]
