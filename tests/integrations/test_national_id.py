"""The ID number in a gateway job: the SyncJob row keeps a reference to it, the fake gateway
receives the number inside the encrypted payload, and every fill-in is audited. A job queued
before the student withdrew their consent to sharing with the funding body is not sent."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from enrolments.services import enrollment_invite
from integrations import payloads
from integrations.models import SyncJob, SyncJobStatus
from integrations.services import sync_job_run
from learners.gateway import NATIONAL_ID, national_id_resolve
from learners.models import ConsentKind
from learners.services import (
    consent_withdraw,
    learner_create,
    learner_merge,
    learner_update,
)
from tests.factories import CohortFactory
from tests.integrations.conftest import invite_consenting
from tests.learners.support import consents_give, details_of, sa_id_number

pytestmark = pytest.mark.django_db

NUMBER = "9001015009087"


def _enrol(admin, **overrides):
    return invite_consenting(
        cohort=CohortFactory(),
        actor=admin,
        email="thandi@example.org",
        full_name="Thandi Nkosi",
        id_number=NUMBER,
        **overrides,
    )


def _job_rows_text() -> str:
    """Every column of every sync job and attempt, as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(job)::text FROM integrations_syncjob job "
            "UNION ALL SELECT row_to_json(attempt)::text FROM integrations_syncattempt attempt"
        )
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_gateway_receives_the_number_that_the_job_row_never_holds(connected, admin):
    enrollment = _enrol(admin)
    (job,) = SyncJob.objects.filter(entity_type="enrolments.cohortenrollment")
    assert NUMBER not in _job_rows_text()

    done = sync_job_run(job_id=job.pk)

    assert done.status == SyncJobStatus.SUCCEEDED
    (submission,) = connected.submissions
    assert submission.payload["enrolment"]["trainee"]["idNumber"] == NUMBER
    assert submission.payload["enrolment"]["trainee"]["fullName"] == "Thandi Nkosi"
    job.refresh_from_db()
    assert job.payload["enrolment"]["trainee"]["idNumber"] == {
        NATIONAL_ID: enrollment.learner_id,
        "digest": enrollment.learner.national_id_hash[:16],
    }
    assert NUMBER not in _job_rows_text()
    produced = AuditEvent.objects.get(action="learner.national_id_produced")
    assert produced.entity_id == str(enrollment.learner_id)
    assert produced.new_values == {"purpose": "training gateway"}
    assert NUMBER not in json.dumps([produced.old_values, produced.new_values])


def test_a_job_queued_before_the_consent_was_withdrawn_is_not_sent(connected, admin):
    enrollment = _enrol(admin)
    (job,) = SyncJob.objects.all()
    consent_withdraw(
        learner=enrollment.learner, kind=ConsentKind.FUNDING_BODY_SHARING, actor=enrollment.user
    )

    done = sync_job_run(job_id=job.pk)

    assert done.status == SyncJobStatus.FAILED
    assert "consent" in done.last_error
    assert connected.submissions == []
    assert not AuditEvent.objects.filter(action="learner.national_id_produced").exists()


def _number_change(learner, admin, number: str) -> None:
    learner.refresh_from_db()
    learner_update(
        learner=learner,
        actor=admin,
        names={name: getattr(learner, name) for name in ("first_name", "last_name", "email")},
        details=details_of(id_number=number),
    )


def test_a_student_without_a_number_who_withdrew_consent_is_not_sent(connected, admin):
    enrollment = invite_consenting(
        cohort=CohortFactory(), actor=admin, email="naledi@example.org", full_name="Naledi"
    )
    (job,) = SyncJob.objects.all()
    assert job.payload["enrolment"]["trainee"]["idNumber"] == ""  # nothing to resolve
    consent_withdraw(
        learner=enrollment.learner, kind=ConsentKind.FUNDING_BODY_SHARING, actor=enrollment.user
    )

    done = sync_job_run(job_id=job.pk)

    assert done.status == SyncJobStatus.FAILED
    assert "consent" in done.last_error
    assert connected.submissions == []


def test_a_job_withheld_for_consent_goes_once_the_consent_is_given_again(connected, admin):
    enrollment = _enrol(admin)
    (job,) = SyncJob.objects.all()
    consent_withdraw(
        learner=enrollment.learner, kind=ConsentKind.FUNDING_BODY_SHARING, actor=enrollment.user
    )
    assert sync_job_run(job_id=job.pk).status == SyncJobStatus.FAILED
    assert SyncJob.objects.count() == 1  # withheld: nothing queued instead while withdrawn

    consents_give(enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    again = SyncJob.objects.exclude(pk=job.pk).get(status=SyncJobStatus.QUEUED)

    assert sync_job_run(job_id=again.pk).status == SyncJobStatus.SUCCEEDED
    (submission,) = connected.submissions
    assert submission.payload["enrolment"]["reference"] == f"enrolment-{enrollment.pk}"
    assert submission.payload["enrolment"]["trainee"]["idNumber"] == NUMBER


def test_a_job_queued_before_the_number_changed_sends_the_new_number(connected, admin):
    enrollment = _enrol(admin)
    (stale,) = SyncJob.objects.all()
    _number_change(enrollment.learner, admin, sa_id_number(3))

    withheld = sync_job_run(job_id=stale.pk)

    assert withheld.status == SyncJobStatus.FAILED
    assert "ID number has changed" in withheld.last_error
    assert connected.submissions == []
    current = SyncJob.objects.get(status=SyncJobStatus.QUEUED)
    assert sync_job_run(job_id=current.pk).status == SyncJobStatus.SUCCEEDED
    (submission,) = connected.submissions
    assert submission.payload["enrolment"]["trainee"]["idNumber"] == sa_id_number(3)


def test_a_number_corrected_after_the_gateway_refused_the_enrolment_is_sent_again(connected, admin):
    enrollment = _enrol(admin)
    connected.will("validation")
    assert sync_job_run(job_id=SyncJob.objects.get().pk).status == SyncJobStatus.FAILED

    _number_change(enrollment.learner, admin, sa_id_number(4))

    corrected = SyncJob.objects.get(status=SyncJobStatus.QUEUED)
    assert sync_job_run(job_id=corrected.pk).status == SyncJobStatus.SUCCEEDED
    assert connected.submissions[-1].payload["enrolment"]["trainee"]["idNumber"] == (
        sa_id_number(4)
    )


def test_a_job_queued_before_a_merge_sends_the_kept_records_number(connected, admin):
    enrollment = _enrol(admin)
    (stale,) = SyncJob.objects.all()
    kept = learner_create(
        actor=admin,
        names={"first_name": "Thandi", "last_name": "Nkosi", "email": ""},
        details=details_of(id_number=sa_id_number(5)),
    )

    learner_merge(keep=kept, other=enrollment.learner, actor=admin)

    assert sync_job_run(job_id=stale.pk).status == SyncJobStatus.FAILED
    assert connected.submissions == []
    current = SyncJob.objects.get(status=SyncJobStatus.QUEUED)
    assert current.payload["enrolment"]["trainee"]["idNumber"][NATIONAL_ID] == kept.pk
    assert sync_job_run(job_id=current.pk).status == SyncJobStatus.SUCCEEDED
    (submission,) = connected.submissions
    assert submission.payload["enrolment"]["trainee"]["idNumber"] == sa_id_number(5)


def test_a_gateway_error_quoting_the_number_is_stored_without_it(connected, admin):
    _enrol(admin)
    connected.will("quoting")

    done = sync_job_run(job_id=SyncJob.objects.get().pk)

    assert done.status == SyncJobStatus.FAILED
    assert "•••• 9087" in done.last_error
    assert NUMBER not in _job_rows_text()
    failed = AuditEvent.objects.get(action="sync_job.failed")
    assert NUMBER not in json.dumps([failed.old_values, failed.new_values])


def test_a_new_number_makes_a_new_version_of_the_stored_payload(connected, admin):
    enrollment = _enrol(admin)
    first = SyncJob.objects.get().payload["enrolment"]["trainee"]["idNumber"]
    other = invite_consenting(
        cohort=CohortFactory(),
        actor=admin,
        email="sipho@example.org",
        full_name="Sipho",
        id_number=sa_id_number(1),
    )
    second = SyncJob.objects.get(entity_id=str(other.pk)).payload["enrolment"]["trainee"]
    assert first["digest"] != second["idNumber"]["digest"]
    assert first[NATIONAL_ID] == enrollment.learner_id


def test_the_enrolment_page_says_the_sync_waits_for_the_consent_and_then_shows_the_job(
    connected, admin, institution, client_for
):
    enrollment = enrollment_invite(
        cohort=CohortFactory(), actor=admin, email="naledi@example.org", full_name="Naledi"
    )
    client = client_for(institution)
    client.force_login(admin)
    url = reverse("verification:enrollment", args=[enrollment.pk])

    waiting = client.get(url).content.decode()
    assert "Waits for the student&#x27;s consent to sharing their details" in waiting

    consents_give(enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    sync_job_run(job_id=SyncJob.objects.get().pk)
    sent = client.get(url).content.decode()
    assert "Waits for the student" not in sent
    assert "Succeeded" in sent

    consent_withdraw(
        learner=enrollment.learner, kind=ConsentKind.FUNDING_BODY_SHARING, actor=enrollment.user
    )
    withdrawn = client.get(url).content.decode()
    assert "The student has withdrawn their consent" in withdrawn


def test_an_institution_without_a_connector_shows_no_waiting(institution, admin, client_for):
    enrollment = enrollment_invite(
        cohort=CohortFactory(), actor=admin, email="naledi@example.org", full_name="Naledi"
    )
    client = client_for(institution)
    client.force_login(admin)
    page = client.get(reverse("verification:enrollment", args=[enrollment.pk])).content.decode()
    assert "Waits for the student" not in page
    assert 'data-testid="sync-status"' not in page


def test_learners_registers_the_national_id_resolver():
    assert payloads.resolvers._resolvers[NATIONAL_ID] is national_id_resolve


def test_a_reference_nobody_resolves_is_refused():
    with pytest.raises(ImproperlyConfigured, match=r"\$unknown"):
        payloads.resolve({"a": [{"$unknown": 1}]})


def test_resolving_leaves_the_stored_payload_as_it_was():
    stored = {"a": [{"b": 1}, "c"], "d": {"$echo": 5}}
    resolvers = payloads.PayloadResolvers()
    resolvers.register("$echo", lambda reference: reference["$echo"] * 2)
    assert resolvers.resolve(stored) == payloads.Resolved({"a": [{"b": 1}, "c"], "d": 10}, ("10",))
    assert stored == {"a": [{"b": 1}, "c"], "d": {"$echo": 5}}


def test_a_number_quoted_in_another_shape_is_cut_too():
    """A gateway may quote the number spaced, or as a JSON number: the error keeps the last
    four digits only."""
    from integrations.services import _long_numbers_cut, _scrub

    filled = ("9001015009087",)
    error = _long_numbers_cut(_scrub("idNumber 900101 5009 087 is not valid", filled))
    response = _scrub({"idNumber": 9001015009087, "9001015009087": "bad"}, filled)

    assert "900101" not in error
    assert error.endswith("•••• 9087 is not valid")
    assert "9001015009087" not in str(response)
