"""The fees owed page's filters: a cohort, a course run, a payer."""

from typing import Any, ClassVar

from django import forms

from accounts.lists import FilterForm
from cohorts.models import Cohort
from delivery.models import CourseRun
from finance.selectors.fees import payer_choices


class FeeFilterForm(FilterForm):
    cohort = forms.ModelChoiceField(
        label="Cohort", queryset=Cohort.objects.none(), required=False, empty_label="Any cohort"
    )
    run = forms.ModelChoiceField(
        label="Course run",
        queryset=CourseRun.objects.none(),
        required=False,
        empty_label="Any course run",
    )
    payer = forms.ChoiceField(label="Payer", required=False)

    selector_names: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cohort: forms.ModelChoiceField = self.fields["cohort"]  # type: ignore[assignment]
        cohort.queryset = (
            Cohort.objects.filter(runs__enrollments__fee_amount__gt=0).distinct().order_by("name")
        )
        run: forms.ModelChoiceField = self.fields["run"]  # type: ignore[assignment]
        run.queryset = (
            CourseRun.objects.filter(enrollments__fee_amount__gt=0)
            .distinct()
            .order_by("-start_date", "title")
        )
        payer: forms.ChoiceField = self.fields["payer"]  # type: ignore[assignment]
        payer.choices = [("", "Any payer"), *payer_choices()]
