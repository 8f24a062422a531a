"""The data protection jobs: archiving (read-only, out of the everyday list, still counted),
dry runs that change nothing but list the same items, the record of each run, who may run them,
the daily task per institution and the command."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.models import Cohort
from cohorts.selectors import cohort_list_for_admin, cohort_state_counts
from cohorts.services import cohort_responsible_admins_set, cohort_update
from privacy.models import JobKind, JobRun
from privacy.selectors import years_before
from privacy.services.jobs import job_run
from privacy.tasks import data_protection_jobs_run_all_institutions
from tests.factories import CohortFactory, UserFactory
from tests.privacy.support import cohort_ended

pytestmark = pytest.mark.django_db


def _archivable(name: str, *, years_ago: int = 6) -> Cohort:
    return cohort_ended(CohortFactory(name=name), years_ago=years_ago)


def test_a_completed_cohort_past_the_archive_period_is_archived(super_admin):
    old = _archivable("Plumbing 2015")
    recent = _archivable("Plumbing 2023", years_ago=2)
    running = CohortFactory(active=True, name="Plumbing now")

    run = job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=False)

    assert run.items == [
        {"type": "cohort", "id": old.pk, "label": "Cohort: Plumbing 2015", "action": "archive"}
    ]
    assert run.item_count == 1
    assert run.finished_at is not None
    assert not run.dry_run
    assert Cohort.objects.get(pk=old.pk).archived_at is not None
    assert Cohort.objects.get(pk=recent.pk).archived_at is None
    assert Cohort.objects.get(pk=running.pk).archived_at is None
    event = AuditEvent.objects.get(action="data_protection.job_run", entity_id=str(run.pk))
    assert event.new_values == {"kind": "archive_cohorts", "dry_run": False, "item_count": 1}
    assert AuditEvent.objects.filter(action="cohort.archived", entity_id=str(old.pk)).exists()


def test_a_dry_run_changes_nothing_and_lists_what_the_run_does(super_admin):
    old = _archivable("Welding 2014")

    dry = job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=True)

    assert Cohort.objects.get(pk=old.pk).archived_at is None
    assert not AuditEvent.objects.filter(action="cohort.archived").exists()
    real = job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=False)
    assert dry.dry_run
    assert dry.items == real.items
    assert JobRun.objects.filter(kind=JobKind.ARCHIVE_COHORTS).count() == 2
    again = job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=False)
    assert again.items == []


def test_an_archived_cohort_refuses_changes(super_admin, admin):
    old = _archivable("Carpentry 2016")
    job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=False)

    with pytest.raises(ValidationError, match="archived .* read-only"):
        cohort_update(
            cohort=old, actor=admin, changes={"end_date": old.end_date + datetime.timedelta(1)}
        )
    with pytest.raises(ValidationError, match="archived"):
        cohort_responsible_admins_set(cohort=old, actor=admin, admins=[admin])
    cohort = Cohort.objects.get(pk=old.pk)
    assert cohort.end_date == old.end_date
    assert "archived and kept read-only" in cohort.closed_message("students can no longer join")


def test_an_archived_cohort_leaves_the_list_but_still_counts(super_admin, admin):
    old = _archivable("Masonry 2013")
    kept = CohortFactory(active=True, name="Masonry now")
    job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=False)

    assert list(cohort_list_for_admin(user=admin)) == [kept]
    assert list(cohort_list_for_admin(user=admin, state="completed")) == []
    assert list(cohort_list_for_admin(user=admin, state="archived")) == [old]
    assert cohort_state_counts(user=admin)["completed"] == 1


def test_only_who_manages_data_protection_runs_a_job(admin):
    old = _archivable("Tiling 2012")

    with pytest.raises(PermissionDenied):
        job_run(actor=admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=False)

    assert Cohort.objects.get(pk=old.pk).archived_at is None
    assert not JobRun.objects.exists()
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="privacy.job_run.archive_cohorts"
    ).exists()


def test_an_unknown_job_is_refused(super_admin):
    with pytest.raises(ValidationError, match="No data protection job"):
        job_run(actor=super_admin, kind="burn_everything", dry_run=False)


def test_a_job_that_fails_changes_nothing_and_keeps_its_error(super_admin, monkeypatch):
    old = _archivable("Glazing 2011")

    def broken(*, cohort):
        raise RuntimeError("storage went away")

    monkeypatch.setattr("privacy.services.jobs.cohort_archive", broken)
    run = job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=False)

    assert run.error_message == "RuntimeError: storage went away"
    assert run.items == []
    assert Cohort.objects.get(pk=old.pk).archived_at is None
    assert AuditEvent.objects.filter(action="data_protection.job_failed").exists()


def test_years_before_takes_a_leap_day_to_the_28th():
    assert years_before(datetime.date(2028, 2, 29), 5) == datetime.date(2023, 2, 28)
    assert years_before(datetime.date(2028, 3, 1), 5) == datetime.date(2023, 3, 1)


def test_the_daily_task_runs_every_job_in_each_institution(institution, other_institution, eager):
    with tenant_context(institution):
        ours = _archivable("Ours 2010")
    with tenant_context(other_institution):
        theirs = _archivable("Theirs 2010")
        UserFactory(roles=[SystemRole.ADMIN])

    data_protection_jobs_run_all_institutions()

    with tenant_context(other_institution):
        assert Cohort.objects.get(pk=theirs.pk).archived_at is not None
        assert set(JobRun.objects.values_list("kind", flat=True)) == {
            JobKind.ARCHIVE_COHORTS,
            JobKind.ANONYMISE_LEARNERS,
            JobKind.PURGE_SEALED_RECORDS,
            JobKind.PURGE_ACCOUNTS,
        }
        assert not JobRun.objects.filter(started_by__isnull=False).exists()
    connection.set_tenant(institution)
    assert Cohort.objects.get(pk=ours.pk).archived_at is not None


def test_the_command_prints_what_a_dry_run_would_do(institution):
    old = _archivable("Roofing 2009")
    out = io.StringIO()

    call_command(
        "data_protection_jobs",
        institution=institution.code,
        job=JobKind.ARCHIVE_COHORTS,
        dry_run=True,
        stdout=out,
    )

    connection.set_tenant(institution)
    assert "archive Cohort: Roofing 2009" in out.getvalue()
    assert "1 item(s) would be changed." in out.getvalue()
    assert Cohort.objects.get(pk=old.pk).archived_at is None
    call_command("data_protection_jobs", institution=institution.code, stdout=io.StringIO())
    connection.set_tenant(institution)
    assert Cohort.objects.get(pk=old.pk).archived_at is not None


def test_the_command_refuses_an_unknown_institution(institution):
    with pytest.raises(CommandError, match="No institution"):
        call_command("data_protection_jobs", institution="nowhere", stdout=io.StringIO())
