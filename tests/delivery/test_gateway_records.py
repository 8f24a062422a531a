"""Attendance and results reach the training gateway: a signed-off register in one bulk
enqueue, corrections after sign-off as updates, moderated results, voids as voids with their
reason; nothing of a learner without consent to sharing with the funding body, and the pages
say why; their records go once they consent."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delivery.models import AttendanceStatus, CourseRun
from delivery.services.assessments import gradebook_save, moderated_result_void
from delivery.services.attendance import Mark, register_correct, register_save, register_sign_off
from delivery.services.gateway_sync import runs_sync
from delivery.services.moderation import run_moderator_assign, run_results_sign_off
from integrations.models import SyncJob, SyncJobType, SyncStatus
from integrations.payloads import WITHHELD_PREFIX
from integrations.services import sync_jobs_sweep
from learners.models import ConsentKind
from learners.services import consent_withdraw
from tests.delivery.attendance.support import all_marked, learners_enrol, session_today
from tests.delivery.results_support import moderator  # noqa: F401, F811 (fixture)
from tests.factories import CourseRunFactory
from tests.learners.support import consents_give

pytestmark = pytest.mark.django_db

NO_CONSENT = "has not consented to sharing with the funding body"


@pytest.fixture
def run(institution) -> CourseRun:
    today = timezone.localdate()
    return CourseRunFactory(
        start_date=today - datetime.timedelta(days=30),
        end_date=today + datetime.timedelta(days=30),
    )


def _learners(run: CourseRun, consenting: int, without: int):
    """`consenting` learners who consent to sharing with the funding body, then `without`
    who do not, in a run queued for the gateway first (their enrolments wait for it)."""
    runs_sync([run])
    enrolments = learners_enrol(
        run,
        consenting + without,
        names=[f"Thandi Learner{n}" for n in range(consenting)]
        + [f"Sizwe Withheld{n}" for n in range(without)],
    )
    for enrolment in enrolments[:consenting]:
        consents_give(enrolment.enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    return enrolments


def _jobs(job_type: str) -> list[SyncJob]:
    return list(SyncJob.objects.filter(job_type=job_type).order_by("pk"))


def test_a_signed_off_register_is_sent_without_the_learner_who_did_not_consent(
    connected, run, client_of
):
    enrolments = _learners(run, consenting=2, without=1)
    withheld = enrolments[2]
    session = session_today(run, 9)
    trainer = run.trainer.user
    register_save(session=session, actor=trainer, marks=all_marked(enrolments))
    assert not _jobs(SyncJobType.ATTENDANCE_CREATE)  # nothing before sign-off
    register_sign_off(session=session, actor=trainer)
    assert len(_jobs(SyncJobType.ATTENDANCE_CREATE)) == 2
    sync_jobs_sweep()

    records = {record.enrolment_id: record for record in session.attendance.all()}
    for enrolment in enrolments[:2]:
        record = records[enrolment.pk]
        assert record.sync_status == SyncStatus.ACCEPTED
        assert connected.record("attendance", f"attendance-{record.pk}").gateway_reference == (
            record.sync_reference
        )
    assert records[withheld.pk].sync_status == SyncStatus.NOT_SENT
    assert connected.record("attendance", f"attendance-{records[withheld.pk].pk}") is None

    page = client_of(trainer).get(reverse("delivery:register", args=[session.pk]))
    text = page.content.decode()
    assert f"Sizwe Withheld0 {NO_CONSENT}." in text
    assert records[enrolments[0].pk].sync_reference in text


def test_consent_given_later_sends_what_waited(connected, run, client_of):
    enrolments = _learners(run, consenting=0, without=1)
    (enrolment,) = enrolments
    session = session_today(run, 9)
    register_save(session=session, actor=run.trainer.user, marks=all_marked(enrolments))
    register_sign_off(session=session, actor=run.trainer.user)
    sync_jobs_sweep()
    assert not SyncJob.objects.exclude(entity_type="delivery.courserun").exists()
    run_page = client_of(run.trainer.user).get(reverse("delivery:run", args=[run.pk]))
    assert f"Sizwe Withheld0 {NO_CONSENT}." in run_page.content.decode()

    consents_give(enrolment.enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    sync_jobs_sweep()
    enrolment.refresh_from_db()
    (record,) = session.attendance.all()
    assert enrolment.sync_status == record.sync_status == SyncStatus.ACCEPTED
    assert connected.record("attendance", f"attendance-{record.pk}") is not None
    run_page = client_of(run.trainer.user).get(reverse("delivery:run", args=[run.pk]))
    assert NO_CONSENT not in run_page.content.decode()
    assert enrolment.sync_reference in run_page.content.decode()


def test_a_correction_after_sign_off_is_sent_as_an_update(connected, run):
    enrolments = _learners(run, consenting=2, without=0)
    session = session_today(run, 9)
    trainer = run.trainer.user
    register_save(session=session, actor=trainer, marks=all_marked(enrolments))
    register_sign_off(session=session, actor=trainer)
    sync_jobs_sweep()
    late = enrolments[0]
    register_correct(
        session=session,
        actor=trainer,
        marks={late.pk: Mark(status=AttendanceStatus.LATE, reason="Bus strike")},
        change_reason="Marked present by mistake.",
    )
    (update,) = _jobs(SyncJobType.ATTENDANCE_UPDATE)  # the unchanged record makes no job
    sync_jobs_sweep()
    record = session.attendance.get(enrolment=late)
    assert update.entity_id == str(record.pk)
    assert record.sync_status == SyncStatus.ACCEPTED
    held = connected.record("attendance", f"attendance-{record.pk}")
    assert held.body["status"] == AttendanceStatus.LATE
    assert held.version == 2


def test_moderated_results_are_sent_and_a_void_goes_as_a_void_with_its_reason(
    admin,
    connected,
    run,
    moderator,  # noqa: F811 (fixture)
    client_of,
):
    enrolments = _learners(run, consenting=1, without=1)
    trainer = run.trainer.user
    run = run_moderator_assign(run=run, actor=admin, moderator=moderator)
    gradebook_save(
        run=run,
        actor=trainer,
        cells={(enrolments[0].pk, "Test"): "72", (enrolments[1].pk, "Test"): "65"},
    )
    assert not _jobs(SyncJobType.ASSESSMENT_CREATE)  # nothing before moderation
    run_results_sign_off(run=run, actor=moderator)
    (create,) = _jobs(SyncJobType.ASSESSMENT_CREATE)
    sync_jobs_sweep()
    sent = enrolments[0].assessments.get()
    sent.refresh_from_db()
    assert create.entity_id == str(sent.pk)
    assert sent.sync_status == SyncStatus.ACCEPTED
    assert connected.record("assessment", f"assessment-{sent.pk}").body["score"] == "72.00"
    completed = connected.record("enrolment", f"course-enrolment-{enrolments[0].pk}")
    assert completed.body["status"] == "Completed"

    page = client_of(trainer).get(reverse("delivery:gradebook", args=[run.pk]))
    text = page.content.decode()
    assert sent.sync_reference in text
    assert f"Sizwe Withheld0 {NO_CONSENT}." in text

    moderated_result_void(assessment=sent, actor=moderator, reason="Marked against the wrong memo.")
    (void,) = _jobs(SyncJobType.ASSESSMENT_VOID)
    assert "Marked against the wrong memo." not in json.dumps(void.payload)  # sent, not kept
    sync_jobs_sweep()
    sent.refresh_from_db()
    held = connected.record("assessment", f"assessment-{sent.pk}")
    assert held.status == "void"
    assert held.body["voidReason"] == "Marked against the wrong memo."
    assert sent.sync_status == SyncStatus.CANCELLED


def _sign_off_queries(run: CourseRun, learners: int, hour: int) -> int:
    """The queries a register sign-off of `learners` consenting learners makes, jobs and their
    records' sync columns included."""
    enrolments = learners_enrol(run, learners, start=hour * 100)
    for enrolment in enrolments:
        consents_give(enrolment.enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    session = session_today(run, hour)
    register_save(session=session, actor=run.trainer.user, marks=all_marked(enrolments))
    with CaptureQueriesContext(connection) as queries:
        register_sign_off(session=session, actor=run.trainer.user)
    assert session.attendance.filter(sync_status=SyncStatus.PENDING).count() == learners
    return len(queries)


def test_a_register_sign_off_costs_the_same_queries_for_2_or_20_learners(connected, institution):
    today = timezone.localdate()
    runs = [
        CourseRunFactory(start_date=today - datetime.timedelta(days=1), end_date=today)
        for _ in range(2)
    ]
    runs_sync(runs)
    assert _sign_off_queries(runs[0], 2, 9) == _sign_off_queries(runs[1], 20, 11)


def test_consent_withdrawn_after_a_change_was_queued_holds_it_back_and_says_why(
    connected, run, client_of
):
    (enrolment,) = _learners(run, consenting=1, without=0)
    learner = enrolment.enrollment.learner
    session = session_today(run, 9)
    trainer = run.trainer.user
    register_save(session=session, actor=trainer, marks=all_marked([enrolment]))
    register_sign_off(session=session, actor=trainer)
    sync_jobs_sweep()
    register_correct(
        session=session,
        actor=trainer,
        marks={enrolment.pk: Mark(status=AttendanceStatus.ABSENT)},
        change_reason="Left before the register was taken.",
    )
    (update,) = _jobs(SyncJobType.ATTENDANCE_UPDATE)
    consent_withdraw(learner=learner, kind=ConsentKind.FUNDING_BODY_SHARING, actor=learner.user)
    sync_jobs_sweep()

    record = session.attendance.get()
    assert record.sync_status == SyncStatus.WITHHELD
    assert record.sync_error.startswith(WITHHELD_PREFIX)
    held = connected.record("attendance", f"attendance-{record.pk}")
    assert held.body["status"] == AttendanceStatus.PRESENT  # the gateway keeps the earlier one
    withdrawn = f"Changes are not sent: {learner.full_name} has withdrawn consent to sharing"
    register = client_of(trainer).get(reverse("delivery:register", args=[session.pk]))
    assert withdrawn in register.content.decode()
    # The enrolment the gateway accepted keeps its standing, and says why it no longer follows.
    enrolment.refresh_from_db()
    assert enrolment.sync_status == SyncStatus.ACCEPTED
    run_page = client_of(trainer).get(reverse("delivery:run", args=[run.pk]))
    assert withdrawn in run_page.content.decode()
