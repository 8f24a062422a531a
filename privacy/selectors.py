"""Reads for data protection: the institution's retention rules, the job runs' record, and what
each job would touch (chosen across the apps here, the top layer, by each app's own fields)."""

from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet

from cohorts.models import CLOSED_STATES, Cohort
from enrolments.models import CohortEnrollment
from learners.models import Learner
from privacy.models import DataProtectionSettings, JobRun


def data_protection_settings_current() -> DataProtectionSettings:
    """The stored settings, or the defaults until someone saves them (read without writing)."""
    return DataProtectionSettings.objects.filter(pk=1).first() or DataProtectionSettings(pk=1)


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def job_runs_list() -> QuerySet[JobRun]:
    """The jobs page's runs, newest first, with who started each."""
    return JobRun.objects.select_related("started_by").order_by("-started_at", "-id")


def job_run_latest_dry_run(*, kind: str) -> JobRun | None:
    """The kind's latest dry run that finished, to show before a real run is confirmed."""
    return (
        JobRun.objects.filter(kind=kind, dry_run=True, finished_at__isnull=False)
        .order_by("-started_at", "-id")
        .first()
    )


def learners_due_for_anonymising(*, ended_before: date) -> QuerySet[Learner]:
    """Learners not anonymised yet whose every cohort is archived and ended before
    `ended_before`; and learners who never enrolled, left untouched since then."""
    enrolled = CohortEnrollment.objects.filter(learner=OuterRef("pk"))
    still_kept = enrolled.filter(
        Q(cohort__archived_at__isnull=True) | Q(cohort__end_date__gte=ended_before)
    )
    due: QuerySet[Learner] = (
        Learner.objects.filter(anonymised_at__isnull=True)
        .annotate(enrolled=Exists(enrolled), kept=Exists(still_kept))
        .filter(
            Q(enrolled=True, kept=False)
            | Q(
                enrolled=False, created_at__date__lt=ended_before, updated_at__date__lt=ended_before
            )
        )
        .order_by("pk")
    )
    return due


def cohorts_past_legal_retention(*, ended_before: date) -> QuerySet[Cohort]:
    """Closed cohorts that ended before `ended_before`: their sealed records may go."""
    past: QuerySet[Cohort] = Cohort.objects.filter(
        state__in=CLOSED_STATES, end_date__lt=ended_before
    ).order_by("end_date", "pk")
    return past
