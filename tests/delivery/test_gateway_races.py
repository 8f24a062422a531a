"""Delivery's gateway jobs racing other transactions, on committed data with a second connection
and the racing work in a thread.

A delivery change racing a learner's consent to sharing with the funding body: the consent is
recorded with the learner's row locked, and a delivery service that queues the learner's
records waits for that lock before it reads them, so that it sees the jobs the consent queued
(a void committing while consent is given goes as a void, not left behind a live pass).

A worker recording the outcome of a run's job while the run is cancelled: it waits for the
cancellation and leaves the run cancelled."""

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator

import psycopg
from django.db import connection, connections, transaction
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from delivery.models import CourseRun, CourseRunStatus
from delivery.services.assessments import gradebook_save, moderated_result_void
from delivery.services.attendance import register_save, register_sign_off
from delivery.services.gateway_sync import runs_sync
from delivery.services.moderation import run_moderator_assign, run_results_sign_off
from integrations.models import SyncJob, SyncJobType
from integrations.services import sync_jobs_sweep
from learners.models import ConsentKind, Learner
from tenants.models import Institution
from tests.delivery.attendance.support import all_marked, session_today
from tests.delivery.results_support import learners_enrol
from tests.factories import (
    CohortFactory,
    CourseFactory,
    CourseRunFactory,
    ProgrammeFactory,
    UserFactory,
)
from tests.integrations.conftest import committed_connector
from tests.learners.support import consents_give
from tests.notifications.support import wait_for


def _unique() -> str:
    return uuid.uuid4().hex[:8].upper()


def _run() -> CourseRun:
    """A run of its own (committed data stays: every code is new)."""
    tag = _unique()
    programme = ProgrammeFactory(code=f"P{tag}", name=f"Programme {tag}")
    return CourseRunFactory(
        cohort=CohortFactory(active=True, name=f"Cohort {tag}"),
        course=CourseFactory(programme=programme, code=f"C{tag}", name=f"Course {tag}"),
        trainer__user__email=f"trainer-{tag}@example.org",
    )


@contextlib.contextmanager
def _held(institution: Institution, statement: str, pk: int) -> Iterator[None]:
    """Another connection's transaction runs `statement` on the row `pk` (taking its lock) and
    holds it until the block ends, then commits."""
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        dbname=database["NAME"],
    ) as other:
        other.execute(f'SET search_path TO "{institution.schema_name}"')
        other.execute(statement, [pk])
        try:
            yield
        finally:
            other.commit()


def _learner_held(institution: Institution, learner: Learner):
    """The learner's row held, as consent_record holds it while it records a consent and
    queues what waited for it."""
    locking = "SELECT id FROM learners_learner WHERE id = %s FOR UPDATE"
    return _held(institution, locking, learner.pk)


def _waiting_on_locks() -> int:
    """Connections to this test database blocked on a row lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _waits_for(
    held: contextlib.AbstractContextManager[None],
    institution: Institution,
    work: Callable[[], object],
) -> None:
    """Run `work` in a thread while a row is `held`: it must wait for the row, then finish
    once the row is let go."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            connection.set_tenant(institution)
            work()
        except BaseException as error:  # noqa: BLE001 (reported by the test's thread)
            failures.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    with held:
        thread.start()

        def waiting() -> bool:
            """the work to wait for the held row"""
            return _waiting_on_locks() > 0 or not thread.is_alive()

        wait_for(waiting, timeout=10)
        assert thread.is_alive(), "the work went ahead without waiting for the held row"
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert not failures, failures


def test_a_moderated_void_waits_for_a_consent_being_recorded(committed_db, gateway):
    with committed_connector(gateway) as alpha, tenant_context(alpha):
        run = _run()
        (enrolment,) = learners_enrol(run, 1)
        learner = enrolment.enrollment.learner
        consents_give(learner, ConsentKind.FUNDING_BODY_SHARING)
        admin = UserFactory(roles=[SystemRole.ADMIN], email=f"admin-{_unique()}@example.org")
        moderator = UserFactory(
            roles=[SystemRole.MODERATOR], email=f"moderator-{_unique()}@example.org"
        )
        run = run_moderator_assign(run=run, actor=admin, moderator=moderator)
        gradebook_save(run=run, actor=run.trainer.user, cells={(enrolment.pk, "Exam"): "72"})
        run_results_sign_off(run=run, actor=moderator)
        exam = enrolment.assessments.get()

        _waits_for(
            _learner_held(alpha, learner),
            alpha,
            lambda: moderated_result_void(assessment=exam, actor=moderator, reason="Wrong memo"),
        )
        assert SyncJob.objects.filter(
            job_type=SyncJobType.ASSESSMENT_VOID, entity_id=str(exam.pk)
        ).exists()


def test_a_register_sign_off_waits_for_a_consent_being_recorded(committed_db, gateway):
    with committed_connector(gateway) as alpha, tenant_context(alpha):
        run = _run()
        enrolments = learners_enrol(run, 2)
        for enrolment in enrolments:
            consents_give(enrolment.enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
        session = session_today(run, 9)
        trainer = run.trainer.user
        register_save(session=session, actor=trainer, marks=all_marked(enrolments))

        _waits_for(
            _learner_held(alpha, enrolments[1].enrollment.learner),
            alpha,
            lambda: register_sign_off(session=session, actor=trainer),
        )
        assert SyncJob.objects.filter(job_type=SyncJobType.ATTENDANCE_CREATE).count() == 2


def test_a_run_cancelled_while_its_job_is_recorded_stays_cancelled(committed_db, gateway):
    with committed_connector(gateway) as alpha, tenant_context(alpha):
        run = _run()
        with transaction.atomic():  # as a delivery service queues it
            runs_sync([run])
        cancelling = _held(
            alpha,
            "UPDATE delivery_courserun SET status = 'cancelled' WHERE id = %s",
            run.pk,
        )
        _waits_for(cancelling, alpha, sync_jobs_sweep)
        run.refresh_from_db()
        assert run.status == CourseRunStatus.CANCELLED
        assert run.external_id  # accepted: the gateway's reference is kept
