"""The ops admin's sync pages: the record filter offers every type the gateway is sent, the
status filter every status; dead letters are re-driven in bulk (all, or the filtered ones)
after a confirmation, each audited; the last 24 hours' finished and failed jobs are counted
per hour in one query and drawn with a table beside the chart."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.services import cohort_create
from integrations.forms import SyncJobFilterForm, synced_record_types
from integrations.models import SyncAttempt, SyncJob, SyncJobStatus
from integrations.payloads import WITHHELD_PREFIX
from integrations.redrive import sync_jobs_redrive
from integrations.selectors import sync_throughput
from integrations.services import sync_job_run
from integrations.signals import sync_jobs_recorded
from tests.factories import UserFactory
from tests.integrations.conftest import configure

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(institution, client_for):
    def sign_in(*roles: str):
        user = UserFactory(roles=list(roles))
        client = client_for(institution)
        client.force_login(user)
        return client, user

    return sign_in


def _cohorts(admin, *names: str) -> list[SyncJob]:
    for name in names:
        cohort_create(
            actor=admin,
            name=name,
            program_type="learnership",
            start_date="2027-01-01",
            end_date="2027-06-01",
        )
    return list(SyncJob.objects.order_by("id"))


def test_the_record_filter_offers_every_type_the_gateway_is_sent_by_name():
    choices = dict(SyncJobFilterForm().fields["entity_type"].choices)

    assert choices == {
        "": "Any record",
        "cohorts.cohort": "Cohort",
        "enrolments.cohortenrollment": "Cohort enrollment",
        "delivery.courserun": "Course run",
        "delivery.courseenrollment": "Course enrollment",
        "delivery.attendancerecord": "Attendance record",
        "delivery.assessment": "Assessment",
    }
    assert [label for _, label in synced_record_types()] == sorted(
        label for _, label in synced_record_types()
    )


def test_the_jobs_filter_by_record_type_and_by_superseded(signed_in, connected, admin):
    client, _ = signed_in(SystemRole.OPS_ADMIN)
    first, second = _cohorts(admin, "One", "Two")
    SyncJob.objects.filter(pk=first.pk).update(status=SyncJobStatus.SUPERSEDED)

    by_type = client.get(reverse("integrations:job_list"), {"entity_type": "cohorts.cohort"})
    none_of_type = client.get(
        reverse("integrations:job_list"), {"entity_type": "delivery.courserun"}
    )
    superseded = client.get(reverse("integrations:job_list"), {"status": "superseded"})

    assert list(by_type.context["page"]) == [second, first]
    assert list(none_of_type.context["page"]) == []
    assert "No jobs match these filters" in none_of_type.content.decode()
    assert list(superseded.context["page"]) == [first]


def test_jobs_that_run_out_of_attempts_are_redriven_in_bulk_after_a_confirmation(
    signed_in, gateway, institution, admin
):
    configure(gateway, max_attempts=1)
    jobs = _cohorts(admin, "One", "Two", "Three")
    gateway.will("error_500", times=3)
    for job in jobs:
        sync_job_run(job_id=job.pk)
    assert set(SyncJob.objects.values_list("status", flat=True)) == {SyncJobStatus.DEAD_LETTER}
    client, ops_admin = signed_in(SystemRole.OPS_ADMIN)

    listing = client.get(reverse("integrations:job_list"))
    assert listing.context["dead_letters"] == 3
    assert "Re-drive all 3 dead letters" in listing.content.decode()
    confirm = client.get(reverse("integrations:jobs_redrive"))
    assert confirm.context["dead_letters"] == 3
    assert "every</strong> dead-letter job" in confirm.content.decode()
    assert SyncJob.objects.filter(status=SyncJobStatus.DEAD_LETTER).count() == 3  # asked only

    done = client.post(reverse("integrations:jobs_redrive"))

    assert done.status_code == 302
    assert set(SyncJob.objects.values_list("status", flat=True)) == {SyncJobStatus.QUEUED}
    assert set(SyncJob.objects.values_list("attempts", flat=True)) == {0}
    events = AuditEvent.objects.filter(action="sync_job.retried", actor=ops_admin)
    assert sorted(int(event.entity_id) for event in events) == [job.pk for job in jobs]
    assert [str(m) for m in get_messages(done.wsgi_request)] == [
        "3 dead-letter jobs are queued again, each with a fresh set of attempts."
    ]


def test_a_filtered_redrive_sends_only_the_filtered_dead_letters(signed_in, connected, admin):
    first, second = _cohorts(admin, "One", "Two")
    SyncJob.objects.update(status=SyncJobStatus.DEAD_LETTER)
    client, _ = signed_in(SystemRole.OPS_ADMIN)
    filters = {"entity_type": "cohorts.cohort", "entity_id": str(first.entity_id)}

    listing = client.get(reverse("integrations:job_list"), filters)
    assert listing.context["redrive_url"].endswith(
        f"?entity_type=cohorts.cohort&entity_id={first.entity_id}"
    )
    confirm = client.get(reverse("integrations:jobs_redrive"), filters)
    assert confirm.context["dead_letters"] == 1
    assert "Record: Cohort" in confirm.content.decode()
    done = client.post(reverse("integrations:jobs_redrive"), filters)

    assert done.url == reverse("integrations:job_list") + (
        f"?entity_type=cohorts.cohort&entity_id={first.entity_id}"
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (SyncJobStatus.QUEUED, SyncJobStatus.DEAD_LETTER)


def test_a_list_with_filters_that_do_not_parse_says_so_and_offers_no_redrive(
    signed_in, connected, admin
):
    _cohorts(admin, "One")
    SyncJob.objects.update(status=SyncJobStatus.DEAD_LETTER)
    client, _ = signed_in(SystemRole.OPS_ADMIN)

    page = client.get(reverse("integrations:job_list"), {"entity_type": "no.such"})

    content = page.content.decode()
    assert 'data-testid="filter-errors"' in content
    assert "Select a valid choice" in content
    assert page.context["dead_letters"] == 0
    assert "Re-drive" not in content


def test_filters_that_do_not_parse_redrive_nothing(signed_in, connected, admin):
    _cohorts(admin, "One")
    SyncJob.objects.update(status=SyncJobStatus.DEAD_LETTER)
    client, _ = signed_in(SystemRole.OPS_ADMIN)

    page = client.post(reverse("integrations:jobs_redrive"), {"entity_type": "no.such"})

    assert page.status_code == 200
    assert "These filters cannot be used" in page.content.decode()
    assert SyncJob.objects.get().status == SyncJobStatus.DEAD_LETTER


def test_a_redrive_skips_a_job_that_stopped_being_a_dead_letter_meanwhile(connected, admin):
    first, second = _cohorts(admin, "One", "Two")
    SyncJob.objects.update(status=SyncJobStatus.DEAD_LETTER)
    ops_admin = UserFactory(roles=[SystemRole.OPS_ADMIN])

    def second_retried_and_failed_meanwhile(sender, jobs, **kwargs) -> None:
        if [job.pk for job in jobs] == [first.pk]:
            SyncJob.objects.filter(pk=second.pk).update(status=SyncJobStatus.FAILED)

    sync_jobs_recorded.connect(second_retried_and_failed_meanwhile)
    try:
        queued = sync_jobs_redrive(actor=ops_admin, jobs=SyncJob.objects.all())
    finally:
        sync_jobs_recorded.disconnect(second_retried_and_failed_meanwhile)

    assert queued == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (SyncJobStatus.QUEUED, SyncJobStatus.FAILED)
    assert not AuditEvent.objects.filter(action="sync_job.retried", entity_id=str(second.pk))


@pytest.mark.parametrize("role", [SystemRole.FINANCE, SystemRole.TRAINER, SystemRole.AUDITOR])
def test_only_who_manages_sync_may_redrive(signed_in, connected, admin, role):
    _cohorts(admin, "One")
    SyncJob.objects.update(status=SyncJobStatus.DEAD_LETTER)
    client, _ = signed_in(role)

    assert client.get(reverse("integrations:jobs_redrive")).status_code == 404
    assert client.post(reverse("integrations:jobs_redrive")).status_code == 404
    assert SyncJob.objects.get().status == SyncJobStatus.DEAD_LETTER


def _finished(
    job: SyncJob, outcome: str, at: datetime.datetime, number: int = 1, error: str = ""
) -> None:
    SyncAttempt.objects.create(
        job=job, number=number, outcome=outcome, started_at=at, finished_at=at, error=error
    )


def test_the_throughput_counts_finished_and_failed_jobs_per_hour_in_one_query(
    connected, admin, django_assert_num_queries
):
    now = timezone.now().replace(minute=30)
    hour = now.replace(minute=0, second=0, microsecond=0)
    accepted, refused, dead, retried, old, withheld = _cohorts(admin, *"ABCDEF")
    _finished(accepted, "succeeded", now)
    # Never sent: the learner has not consented. Not a gateway failure.
    _finished(withheld, "permanent", now, error=f"{WITHHELD_PREFIX} no consent to share.")
    _finished(refused, "permanent", now - datetime.timedelta(hours=2))
    _finished(dead, "retryable", now - datetime.timedelta(hours=2, minutes=5))
    _finished(dead, "retryable", now - datetime.timedelta(hours=2), number=2)
    SyncJob.objects.filter(pk=dead.pk).update(status=SyncJobStatus.DEAD_LETTER)
    _finished(retried, "retryable", now)  # will be tried again: not finished
    _finished(old, "succeeded", now - datetime.timedelta(hours=30))

    # One query, and the `SET search_path` django-tenants sends before it.
    with django_assert_num_queries(2):
        throughput = sync_throughput(now=now)

    assert len(throughput.hours) == 24
    assert throughput.hours[-1].hour == hour
    by_hour = {entry.hour: (entry.finished, entry.failed) for entry in throughput.hours}
    assert by_hour[hour] == (1, 0)
    assert by_hour[hour - datetime.timedelta(hours=2)] == (2, 2)
    assert (throughput.finished, throughput.failed, throughput.busiest) == (3, 2, 2)


def test_the_jobs_page_draws_the_throughput_with_a_table(signed_in, connected, admin):
    (job,) = _cohorts(admin, "One")
    sync_job_run(job_id=job.pk)
    client, _ = signed_in(SystemRole.OPS_ADMIN)

    content = client.get(reverse("integrations:job_list")).content.decode()

    assert "1 job finished, 0 failed (0%)." in content
    assert 'role="img"' in content
    assert 'data-testid="throughput-table"' in content


def test_an_empty_day_says_so_without_a_chart(signed_in, institution):
    client, _ = signed_in(SystemRole.OPS_ADMIN)

    content = client.get(reverse("integrations:job_list")).content.decode()

    assert "No job finished in the last 24 hours." in content
    assert "<svg" not in content
