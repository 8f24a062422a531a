"""The sync pages: the jobs list with its filters and counts, a job's page with its attempts
and redacted payload, retry and cancel (audited), the connector settings; and the operators'
command."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse

import integrations.views
from accounts.models import SystemRole
from accounts.services import role_create
from audit.models import AuditEvent
from cohorts.imports.writing import enrollments_import
from cohorts.services import cohort_create
from integrations.models import ConnectorConfig, SyncJob, SyncJobStatus
from integrations.redrive import sync_jobs_redrive
from integrations.selectors import sync_state_for
from integrations.services import sync_job_cancel, sync_job_run
from learners.models import ConsentKind
from learners.services import learner_for_user
from tests.factories import CohortFactory, UserFactory
from tests.imports.support import student_row
from tests.integrations.conftest import invite_consenting
from tests.learners.support import consents_give

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(institution, client_for):
    def sign_in(*roles: str):
        user = UserFactory(roles=list(roles))
        client = client_for(institution)
        client.force_login(user)
        return client, user

    return sign_in


@pytest.fixture
def enrolment_job(connected, admin) -> SyncJob:
    invite_consenting(
        cohort=CohortFactory(),
        actor=admin,
        email="naledi@example.org",
        full_name="Naledi",
        id_number="9001015009087",
    )
    return SyncJob.objects.get()


def test_admins_see_the_jobs_with_counts_per_status(signed_in, enrolment_job, connected):
    client, _ = signed_in(SystemRole.ADMIN)
    connected.will("validation")
    sync_job_run(job_id=enrolment_job.pk)

    page = client.get(reverse("integrations:job_list"))
    assert page.status_code == 200
    assert dict((status, count) for status, _, count in page.context["counts"])["failed"] == 1
    assert list(page.context["page"]) == [enrolment_job]
    filtered = client.get(reverse("integrations:job_list"), {"status": "succeeded"})
    assert list(filtered.context["page"]) == []
    by_record = client.get(
        reverse("integrations:job_list"),
        {"entity_type": "enrolments.cohortenrollment", "entity_id": enrolment_job.entity_id},
    )
    assert list(by_record.context["page"]) == [enrolment_job]


def test_the_list_makes_as_many_queries_for_many_jobs_as_for_few(signed_in, connected, admin):
    client, _ = signed_in(SystemRole.ADMIN)
    cohort_create(
        actor=admin,
        name="One",
        program_type="learnership",
        start_date="2027-01-01",
        end_date="2027-06-01",
    )
    client.get(reverse("integrations:job_list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("integrations:job_list"))
    for index in range(30):
        cohort_create(
            actor=admin,
            name=f"Cohort {index}",
            program_type="learnership",
            start_date="2027-01-01",
            end_date="2027-06-01",
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("integrations:job_list"))
    assert len(many) == len(few)


def test_the_job_page_shows_attempts_and_hides_the_id_number(signed_in, enrolment_job, connected):
    client, _ = signed_in(SystemRole.ADMIN)
    connected.will("error_500")
    sync_job_run(job_id=enrolment_job.pk)

    page = client.get(reverse("integrations:job_detail", args=[enrolment_job.pk]))

    content = page.content.decode()
    assert page.status_code == 200
    assert "9001015009087" not in content
    assert "Naledi" in content
    assert "Gateway 500" in content
    assert len(page.context["attempts"]) == 1


def test_an_admin_cancels_a_queued_job_and_retries_a_failed_one(
    signed_in, enrolment_job, connected, admin
):
    client, user = signed_in(SystemRole.ADMIN)

    client.post(reverse("integrations:job_cancel", args=[enrolment_job.pk]))
    enrolment_job.refresh_from_db()
    assert enrolment_job.status == SyncJobStatus.CANCELLED
    assert AuditEvent.objects.filter(action="sync_job.cancelled", actor=user).exists()

    SyncJob.objects.filter(pk=enrolment_job.pk).update(status=SyncJobStatus.DEAD_LETTER)
    client.post(reverse("integrations:job_retry", args=[enrolment_job.pk]))
    enrolment_job.refresh_from_db()
    assert enrolment_job.status == SyncJobStatus.QUEUED
    assert AuditEvent.objects.filter(action="sync_job.retried", actor=user).exists()


def test_a_retry_must_be_posted(signed_in, enrolment_job):
    client, _ = signed_in(SystemRole.ADMIN)
    assert client.get(reverse("integrations:job_retry", args=[enrolment_job.pk])).status_code == 405


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.VERIFIER, SystemRole.AUDITOR])
def test_others_get_a_404(signed_in, enrolment_job, role):
    client, _ = signed_in(role)
    for name in ("job_list", "connector_settings"):
        assert client.get(reverse(f"integrations:{name}")).status_code == 404
    assert (
        client.get(reverse("integrations:job_detail", args=[enrolment_job.pk])).status_code == 404
    )
    assert (
        client.post(reverse("integrations:job_cancel", args=[enrolment_job.pk])).status_code == 404
    )
    enrolment_job.refresh_from_db()
    assert enrolment_job.status == SyncJobStatus.QUEUED


def test_managing_sync_without_reaching_every_cohort_gets_a_404(
    signed_in, enrolment_job, super_admin, admin
):
    """A custom role limited to its cohorts elsewhere: sync jobs may be about any cohort."""
    role = role_create(
        actor=super_admin,
        name="Cohort sync clerk",
        description="Manages sync for the cohorts they are given.",
        permission_codes=["integrations.manage_sync"],
    )
    client, clerk = signed_in(role)
    job = enrolment_job
    for url in (
        reverse("integrations:job_list"),
        reverse("integrations:job_detail", args=[job.pk]),
        reverse("integrations:jobs_redrive"),
    ):
        assert client.get(url).status_code == 404, url
    for name in ("job_cancel", "job_retry"):
        assert client.post(reverse(f"integrations:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("integrations:jobs_redrive")).status_code == 404
    with pytest.raises(PermissionDenied):
        sync_job_cancel(job=job, actor=clerk)
    with pytest.raises(PermissionDenied):
        sync_jobs_redrive(actor=clerk, jobs=SyncJob.objects.all())
    job.refresh_from_db()
    assert job.status == SyncJobStatus.QUEUED

    ops_client, _ = signed_in(SystemRole.OPS_ADMIN)
    assert ops_client.get(reverse("integrations:job_detail", args=[job.pk])).status_code == 200


def test_a_super_admin_configures_the_connector_without_seeing_the_keys(
    signed_in, gateway, institution
):
    client, super_admin = signed_in(SystemRole.SUPER_ADMIN)
    response = client.post(
        reverse("integrations:connector_settings"),
        {
            "connector": "training_gateway",
            "base_url": gateway.url,
            "api_key": gateway.api_key,
            "encryption_key": gateway.encryption_key,
            "max_attempts": 5,
            "timeout_seconds": 10,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    config = ConnectorConfig.objects.get()
    assert (config.max_attempts, config.base_url) == (5, gateway.url)
    page = client.get(reverse("integrations:connector_settings"))
    assert gateway.api_key not in page.content.decode()
    assert gateway.encryption_key not in page.content.decode()
    event = AuditEvent.objects.get(action="integrations.connector_configured", actor=super_admin)
    assert event.new_values["credentials_changed"] == ["api_key", "encryption_key"]
    assert gateway.api_key not in str(event.new_values)


def test_the_sync_status_include_shows_the_reference(signed_in, connected, admin):
    from django.template.loader import render_to_string

    cohort = cohort_create(
        actor=admin,
        name="Welding",
        program_type="learnership",
        start_date="2027-01-01",
        end_date="2027-06-01",
    )
    job = sync_job_run(job_id=SyncJob.objects.get().pk)
    html = render_to_string(
        "integrations/_sync_status.html",
        {"sync": sync_state_for(entity_type="cohorts.cohort", entity_id=cohort.pk), "user": admin},
    )
    assert job.external_reference in html
    assert "Succeeded" in html


def test_an_import_queues_its_enrolments_in_one_bulk_insert(connected, admin):
    cohort = CohortFactory()
    rows = [{"line": line, **student_row(full_name=f"S {line}")} for line in range(2, 12)]
    # Returning students, who consented to sharing with the funding body before.
    for row in rows:
        student = UserFactory(email=row["email"], full_name=row["full_name"])
        learner = learner_for_user(student, actor=None, id_number=row["id_number"])
        consents_give(learner, ConsentKind.FUNDING_BODY_SHARING)
    assert not SyncJob.objects.exists()

    enrollments_import(cohort=cohort, actor=admin, rows=rows, reference="test")

    jobs = SyncJob.objects.filter(entity_type="enrolments.cohortenrollment")
    assert jobs.count() == 10
    assert set(jobs.values_list("job_type", flat=True)) == {"enrolment_create"}


def test_the_command_lists_and_requeues_dead_jobs(enrolment_job, capsys, institution):
    SyncJob.objects.filter(pk=enrolment_job.pk).update(status=SyncJobStatus.DEAD_LETTER)

    call_command("sync_jobs", "list", "--schema", institution.schema_name)
    assert f"#{enrolment_job.pk} dead_letter" in capsys.readouterr().out
    call_command("sync_jobs", "requeue-dead", "--schema", institution.schema_name)
    assert "1 dead-letter job(s) queued again" in capsys.readouterr().out
    enrolment_job.refresh_from_db()
    assert enrolment_job.status == SyncJobStatus.QUEUED
    SyncJob.objects.filter(pk=enrolment_job.pk).update(status=SyncJobStatus.FAILED)
    call_command("sync_jobs", "retry", str(enrolment_job.pk), "--schema", institution.schema_name)
    enrolment_job.refresh_from_db()
    assert enrolment_job.status == SyncJobStatus.QUEUED


def test_another_institutions_admin_cannot_see_or_touch_a_job(
    enrolment_job, other_institution, client_for
):
    from django_tenants.utils import tenant_context

    client = client_for(other_institution)
    with tenant_context(other_institution):
        client.force_login(UserFactory(roles=[SystemRole.SUPER_ADMIN]))
    # Served in beta's schema: alpha's job id does not exist there.
    detail = client.get(reverse("integrations:job_detail", args=[enrolment_job.pk]))
    cancel = client.post(reverse("integrations:job_cancel", args=[enrolment_job.pk]))
    assert (detail.status_code, cancel.status_code) == (404, 404)


def test_page_two_of_the_jobs_keeps_its_filters(signed_in, enrolment_job, admin, monkeypatch):
    monkeypatch.setattr(integrations.views, "LOG_PAGE_SIZE", 2)
    client, _ = signed_in(SystemRole.ADMIN)
    for name in ("One", "Two", "Three"):
        cohort_create(
            actor=admin,
            name=name,
            program_type="learnership",
            start_date="2027-01-01",
            end_date="2027-06-01",
        )
    cohort_jobs = list(SyncJob.objects.filter(entity_type="cohorts.cohort").order_by("-id"))
    assert len(cohort_jobs) == 3

    first = client.get(reverse("integrations:job_list"), {"entity_type": "cohorts.cohort"})
    assert 'href="?entity_type=cohorts.cohort&amp;page=2"' in first.content.decode()
    second = client.get(reverse("integrations:job_list") + "?entity_type=cohorts.cohort&page=2")
    assert list(second.context["page"]) == cohort_jobs[2:]
