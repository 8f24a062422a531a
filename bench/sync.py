"""Sync benchmark: about 5,000 gateway jobs of every kind the training gateway takes (course runs,
learners' enrolments in them, attendance, results, and cohort enrolments) sent to the fake
training gateway (a real HTTP server on loopback, integrations.testing) with 10% of requests
failing with a 500, by worker processes sweeping at once, as the worker's processes do; one of
them is killed with SIGKILL once, mid-run, and a new one started in its place.

    .venv/bin/python bench/sync.py [--jobs 5000] [--workers 4] [--failure-ratio 0.1]

Set-up (not measured): records written with bulk inserts, then queued by the outbox
(`sync_enqueue_many`, as the services queue them): each run created and changed twice at once
(three versions of it queued together, so that they race), some enrolments' fees changed,
some attendance corrected, some results corrected or voided (each a second version queued
behind the first). Records that belong to a run wait at send time until the gateway has
accepted the run (`$gateway_reference`).

Measured: the workers (separate processes, each with its own database connection) call
`sync_jobs_sweep` until no job is left to run. Retries are made due within milliseconds so that
the run measures the machinery, not the backoff. The connector's time-out is 1 s and the lease's
margin 2 s, so the lease (4 time-outs and the margin) lets the killed worker's jobs be taken
over 6 s after it claimed them: it is killed when a tenth of the jobs have finished, so that
the takeover falls within the run, at a moment when it holds claimed jobs (frozen first to
find one).

The baseline is measured after, in the same run: the same jobs, in an institution of their
own, sent by the same workers claiming one job at a time (as before batching), none killed.

With SYNC_BENCH_PROFILE=DIR, each worker that finishes writes its cProfile statistics to
DIR/worker-PID.prof. Runs in a scratch database of its own (see scratch.py). Progress goes to
stderr; stdout ends with, one per line:

    jobs_per_s_one_job_per_claim: <the baseline's jobs finished per second of sending>
    duplicates: <submissions the gateway processed more often than they were sent with cause:
                 once, plus once per attempt abandoned by a killed worker; target 0>
    lost: <jobs neither accepted, superseded nor dead-lettered, plus records with an accepted
           job that the gateway does not hold; target 0>
    stale_wins: <records the gateway holds at an older version than the newest one it accepted
                 from us, plus records whose older version it accepted after a newer one;
                 target 0>
    jobs_per_s: <jobs finished (accepted, superseded or dead-lettered) per second of sending;
                 target 150>

The exit status is non-zero when the run could not be measured (or did not finish in time).
"""

import argparse
import cProfile
import datetime
import multiprocessing
import os
import resource
import signal
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scratch import CouldNotMeasure, log, run_benchmark

DEADLINE_SECONDS = 600
COURSES_PER_COHORT = 5
COHORTS = 2
# Jobs queued per learner of a cohort: their cohort enrolment, and per course run their
# enrolment, attendance and result (three creates) plus a share of second versions.
JOBS_PER_LEARNER = 1 + COURSES_PER_COHORT * 3.3
# The connector's time-out and the lease's margin, small here: the lease (how long a worker may
# hold its jobs before another takes them over) follows from them, 4 x 1 s + 2 s, so the
# killed worker's jobs are taken over during the run without the others idling long for them.
CONNECTOR_TIMEOUT_SECONDS = 1.0
LEASE_MARGIN_SECONDS = 2.0
# A directory in this environment variable: each worker that finishes writes its cProfile
# statistics there (worker-PID.prof), to see where a worker's time goes.
PROFILE_VARIABLE = "SYNC_BENCH_PROFILE"
# When this share of the jobs has finished, one worker is killed.
KILL_AT = 0.1

# What each record type is at the gateway, and our reference for it there.
GATEWAY_KINDS = {
    "delivery.courserun": ("run", "run-{}"),
    "delivery.courseenrollment": ("enrolment", "course-enrolment-{}"),
    "delivery.attendancerecord": ("attendance", "attendance-{}"),
    "delivery.assessment": ("assessment", "assessment-{}"),
    "enrolments.cohortenrollment": ("enrolment", "enrolment-{}"),
}
FINISHED = ("succeeded", "superseded", "dead_letter")


# --- Set-up (not measured) ------------------------------------------------------------------


def learners_for(cohort, count: int, offset: int) -> list:
    """A cohort's students, consenting to sharing with the funding body, and their enrolments."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import SystemRole, User
    from accounts.services import system_role_give
    from enrolments.models import CohortEnrollment
    from learners.consents import WORDINGS
    from learners.models import ConsentKind, ConsentMethod, IdentityType, Learner
    from learners.services import national_id_fields

    unusable = make_password(None)
    numbers = range(offset, offset + count)
    students = User.objects.bulk_create(
        User(
            email=f"student{number}@sync.example",
            full_name=f"Student {number:05d}",
            password=unusable,
        )
        for number in numbers
    )
    system_role_give(users=students, key=SystemRole.STUDENT, granted_by=None)
    learners = Learner.objects.bulk_create(
        Learner(
            user=student,
            first_name="Student",
            last_name=f"{number:05d}",
            email=student.email,
            consent_flags={
                ConsentKind.FUNDING_BODY_SHARING: {
                    "given": True,
                    "version": WORDINGS[ConsentKind.FUNDING_BODY_SHARING].version,
                    "method": ConsentMethod.PORTAL,
                }
            },
            **national_id_fields(kind=IdentityType.SA_ID, country="ZA", number=f"{number:013d}"),
        )
        for number, student in zip(numbers, students, strict=True)
    )
    return CohortEnrollment.objects.bulk_create(
        CohortEnrollment(cohort=cohort, user=student, learner=learner)
        for student, learner in zip(students, learners, strict=True)
    )


def deliver(learners_per_cohort: int) -> None:
    """Two cohorts of a programme of five courses, a run of each course per cohort with one
    signed-off session and moderated results, every learner enrolled in each run."""
    from django.utils import timezone

    from academics.models import Course, Programme
    from accounts.models import User
    from cohorts.models import Cohort
    from delivery.models import (
        Assessment,
        AssessmentResult,
        AttendanceRecord,
        AttendanceStatus,
        CourseEnrollment,
        CourseRun,
        Session,
    )

    now = timezone.now()
    start, end = datetime.date(2027, 2, 1), datetime.date(2027, 11, 30)
    programme = Programme.objects.create(
        name="Business Administration",
        code="BA",
        duration_years=Decimal(1),
        total_credits=120,
        degree_type="learnership",
        fee_amount=Decimal("4500.00"),
        fee_currency="ZAR",
    )
    courses = Course.objects.bulk_create(
        Course(programme=programme, code=f"BA40{index}", name=f"Module {index}", credits=24)
        for index in range(COURSES_PER_COHORT)
    )
    assessor = User.objects.create_user("assessor@sync.example", None, full_name="Ada Assessor")
    for number in range(COHORTS):
        cohort = Cohort.objects.create(
            name=f"Bench run {number}",
            program_type="learnership",
            start_date=start,
            end_date=end,
            student_count=learners_per_cohort,
            programme=programme,
        )
        enrollments = learners_for(cohort, learners_per_cohort, number * learners_per_cohort)
        runs = CourseRun.objects.bulk_create(
            CourseRun(
                cohort=cohort,
                course=course,
                course_ref=course.code,
                title=course.name,
                start_date=start,
                end_date=end,
                venue="Room 1",
                capacity=learners_per_cohort,
                moderated_at=now,
            )
            for course in courses
        )
        sessions = Session.objects.bulk_create(
            Session(
                course_run=run,
                session_date=start,
                start_time=datetime.time(9),
                end_time=datetime.time(12),
                register_signed_off_at=now,
            )
            for run in runs
        )
        course_enrolments = CourseEnrollment.objects.bulk_create(
            CourseEnrollment(
                enrollment=enrollment,
                course=run.course,
                course_run=run,
                enrollment_date=start,
                fee_amount=programme.fee_amount,
                fee_currency=programme.fee_currency,
            )
            for run in runs
            for enrollment in enrollments
        )
        AttendanceRecord.objects.bulk_create(
            AttendanceRecord(
                session=session,
                enrolment=enrolment,
                status=AttendanceStatus.PRESENT,
                signed_off_at=now,
            )
            for session, run in zip(sessions, runs, strict=True)
            for enrolment in course_enrolments
            if enrolment.course_run_id == run.pk
        )
        Assessment.objects.bulk_create(
            Assessment(
                enrolment=enrolment,
                assessment_type="Summative",
                score=Decimal(60 + enrolment.pk % 40),
                result=AssessmentResult.PASS,
                assessed_at=now,
                assessor=assessor,
            )
            for enrolment in course_enrolments
        )


def records():
    """Every record the gateway is sent, each type read with what its builder reads."""
    from delivery.models import Assessment, AttendanceRecord, CourseEnrollment, CourseRun
    from enrolments.models import CohortEnrollment

    return {
        "runs": list(CourseRun.objects.order_by("pk")),
        "course_enrolments": list(
            CourseEnrollment.objects.select_related(
                "course_run", "enrollment__learner", "enrollment__user"
            ).order_by("pk")
        ),
        "attendance": list(
            AttendanceRecord.objects.select_related(
                "session", "enrolment__enrollment__learner"
            ).order_by("pk")
        ),
        "assessments": list(
            Assessment.objects.select_related(
                "enrolment__course_run", "enrolment__enrollment__learner", "assessor"
            ).order_by("pk")
        ),
        "cohort_enrolments": list(
            CohortEnrollment.objects.select_related("learner", "user", "cohort").order_by("pk")
        ),
    }


def queue_everything() -> int:
    """Queue every record's jobs as the services would, with second versions behind some of
    them; returns how many jobs were queued."""
    from django.db import transaction

    from delivery.models import AssessmentResult, AttendanceStatus
    from integrations.services import sync_enqueue_many

    found = records()
    queued = 0
    with transaction.atomic():
        # Runs first: everything else waits for its run's reference.
        for run in found["runs"]:
            queued += len(sync_enqueue_many([run]))
            for venue in ("Room 2", "Room 3"):  # changed twice before anything was sent
                run.venue = venue
                run.save(update_fields=["venue"])
                queued += len(sync_enqueue_many([run]))
        for name in ("cohort_enrolments", "course_enrolments", "attendance", "assessments"):
            queued += len(sync_enqueue_many(found[name]))
        # Second versions, queued while their first versions are still waiting.
        changed_fees = found["course_enrolments"][::10]
        for enrolment in changed_fees:
            enrolment.fee_amount = Decimal("3900.00")
            enrolment.subsidy_info = "Sector training fund: 600.00"
            enrolment.save(update_fields=["fee_amount", "subsidy_info"])
        queued += len(sync_enqueue_many(changed_fees))
        corrected = found["attendance"][3::10]
        for record in corrected:
            record.status = AttendanceStatus.LATE
            record.save(update_fields=["status"])
        queued += len(sync_enqueue_many(corrected))
        changed = found["assessments"][5::10]
        for index, assessment in enumerate(changed):
            if index % 2:
                assessment.result = AssessmentResult.VOID
                assessment.void_reason = "Assessed against the wrong rubric."
                assessment.save(update_fields=["result", "void_reason"])
            else:
                assessment.score = Decimal(45)
                assessment.result = AssessmentResult.FAIL
                assessment.save(update_fields=["score", "result"])
        queued += len(sync_enqueue_many(changed))
    return queued


# --- Workers --------------------------------------------------------------------------------


def worker(database_url: str, schema_name: str, deadline: float, batch_size: int) -> None:
    """One worker process: sweeps, claiming `batch_size` jobs at a time, until no job is queued
    or running (a running job whose worker was killed is taken over once its lease has
    passed)."""
    from scratch import configure_django

    configure_django(database_url)
    from django_tenants.utils import tenant_context

    from integrations import services
    from integrations.connectors.training_gateway import TrainingGatewayConnector
    from integrations.models import SyncJob, SyncJobStatus
    from integrations.services import sync_jobs_sweep
    from tenants.models import Institution

    services.SWEEP_BATCH_SIZE = batch_size

    TrainingGatewayConnector.retry_base_seconds = 0.002
    TrainingGatewayConnector.retry_cap_seconds = 0.02
    TrainingGatewayConnector.lease_margin_seconds = LEASE_MARGIN_SECONDS
    profile_dir = os.environ.get(PROFILE_VARIABLE)
    profiler = cProfile.Profile() if profile_dir else None
    # The institution itself (not its schema alone): a dead letter e-mails its admins a link.
    with tenant_context(Institution.objects.get(schema_name=schema_name)):
        unfinished = SyncJob.objects.filter(
            status__in=[SyncJobStatus.QUEUED, SyncJobStatus.RUNNING]
        )
        if profiler:
            profiler.enable()
        try:
            while time.time() < deadline:
                if sync_jobs_sweep() == 0:
                    if not unfinished.exists():
                        return
                    time.sleep(0.01)  # retries not yet due, or held by another worker
        finally:
            if profiler and profile_dir:
                profiler.disable()
                profiler.dump_stats(os.path.join(profile_dir, f"worker-{os.getpid()}.prof"))


def cpu_seconds() -> tuple[float, float]:
    """CPU time (user and system) of the worker processes that have ended, and of this one
    (the fake gateway's threads)."""
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return workers.ru_utime + workers.ru_stime, own.ru_utime + own.ru_stime


@dataclass
class Pool:
    """The worker processes; one is killed once, and another started in its place."""

    database_url: str
    schema_name: str
    deadline: float
    batch_size: int

    def __post_init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self.processes: list[Any] = []
        self.killed = 0

    def start(self) -> None:
        process = self._context.Process(
            target=worker,
            args=(self.database_url, self.schema_name, self.deadline, self.batch_size),
        )
        process.start()
        self.processes.append(process)

    def kill_one(self, *, lease_seconds: float) -> None:
        """Kill a worker while it holds claimed jobs: it is frozen (SIGSTOP) until the other
        workers' batches of that moment are recorded; if it still holds jobs claimed before
        it froze, it is killed, else thawed and tried again a moment later."""
        from datetime import timedelta

        from django.utils import timezone

        from integrations.models import SyncJob, SyncJobStatus

        victim = next(process for process in self.processes if process.is_alive())
        while True:
            os.kill(victim.pid, signal.SIGSTOP)
            frozen_at = timezone.now()
            time.sleep(5)  # longer than a batch takes to send and record
            held = SyncJob.objects.filter(
                status=SyncJobStatus.RUNNING,
                locked_until__lt=frozen_at + timedelta(seconds=lease_seconds),
            ).count()
            if held:
                break
            os.kill(victim.pid, signal.SIGCONT)
            time.sleep(0.3)
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)
        self.killed += 1
        log(
            f"  worker {victim.pid} killed (SIGKILL) holding {held} jobs; a new one starts in "
            "its place"
        )
        self.start()

    def running(self) -> bool:
        return any(process.is_alive() for process in self.processes)

    def failed(self) -> list[int]:
        return [
            process.exitcode
            for process in self.processes
            if process.exitcode not in (0, -signal.SIGKILL)
        ]


# --- Measuring ------------------------------------------------------------------------------


def counted(gateway, *, finished_count: int) -> dict[str, int]:
    """duplicates, lost and stale_wins, from what the gateway holds and what our jobs say."""
    from django.db.models import Count, Q

    from integrations.models import SyncAttemptOutcome, SyncJob, SyncJobStatus

    abandoned = Count("attempt_log", filter=Q(attempt_log__outcome=SyncAttemptOutcome.ABANDONED))
    jobs = list(
        SyncJob.objects.annotate(abandoned=abandoned).values_list(
            "entity_type", "entity_id", "idempotency_key", "version", "status", "abandoned"
        )
    )
    by_key = {job[2]: (job[0], job[1], job[3]) for job in jobs}
    # A job a killed worker had sent may be sent again by the worker taking it over (the
    # gateway answers it as a duplicate of its key): once more per abandoned attempt.
    allowed = {job[2]: 1 + job[5] for job in jobs}
    duplicates = sum(1 for key, times in gateway.processed.items() if times > allowed.get(key, 1))

    unfinished = sum(1 for *_, status, _ in jobs if status not in FINISHED)
    newest: dict[tuple[str, str], int] = {}
    for entity_type, entity_id, _, version, status, _ in jobs:
        if status == SyncJobStatus.SUCCEEDED:
            record = (entity_type, entity_id)
            newest[record] = max(newest.get(record, 0), version)
    held = {(item.kind, item.reference): item.version for item in gateway.records.values()}
    missing = older = 0
    for (entity_type, entity_id), version in newest.items():
        kind, reference = GATEWAY_KINDS[entity_type]
        at_gateway = held.get((kind, reference.format(entity_id)))
        if at_gateway is None:
            missing += 1
        elif at_gateway < version:
            older += 1
    # The order the gateway accepted submissions in (the keys it keeps, oldest first).
    accepted_versions: dict[tuple[str, str], list[int]] = defaultdict(list)
    for key in gateway.accepted:
        entity_type, entity_id, version = by_key[key]
        accepted_versions[(entity_type, entity_id)].append(version)
    out_of_order = sum(
        1
        for versions in accepted_versions.values()
        if any(later < earlier for earlier, later in zip(versions, versions[1:], strict=False))
    )
    log(
        f"  {unfinished} jobs unfinished, {missing} records missing at the gateway; "
        f"{older} records held at an older version, {out_of_order} accepted out of order; "
        f"{gateway.stale_refusals} stale versions refused by the gateway"
    )
    if finished_count + unfinished != len(jobs):
        raise CouldNotMeasure("the job counts do not add up")
    return {
        "duplicates": duplicates,
        "lost": unfinished + missing,
        "stale_wins": older + out_of_order,
    }


def measure(jobs: int, workers: int, failure_ratio: float) -> dict[str, float | int]:
    """The run the figures are about, then its baseline: the same jobs sent one claim per job
    (as before batching), no worker killed."""
    figures = send_round(jobs, workers, failure_ratio, code="benchsync")
    baseline = send_round(
        jobs, workers, failure_ratio, code="benchsyncbase", batch_size=1, kill=False
    )
    log(f"baseline, one job per claim: {baseline['jobs_per_s']:.1f} jobs/s")
    return {"jobs_per_s_one_job_per_claim": baseline["jobs_per_s"], **figures}


def send_round(
    jobs: int,
    workers: int,
    failure_ratio: float,
    *,
    code: str,
    batch_size: int | None = None,
    kill: bool = True,
) -> dict[str, float | int]:
    """Queue the jobs in a new institution and send them; the figures of the round."""
    from django.db import connection, connections
    from django.db.models import Count

    from integrations.connectors.training_gateway import TrainingGatewayConnector
    from integrations.models import SyncAttempt, SyncJob
    from integrations.services import SWEEP_BATCH_SIZE, connector_config_save, connector_load
    from integrations.testing import FakeGateway
    from tenants.db import tenant_connection
    from tenants.services import institution_provision

    tenant_connection.set_schema_to_public()  # provisioning happens there, after a round
    institution = institution_provision(
        name=f"Bench Sync {code}", code=code, admin_email=f"admin@{code}.example"
    )
    tenant_connection.set_tenant(institution)
    TrainingGatewayConnector.lease_margin_seconds = LEASE_MARGIN_SECONDS
    gateway = FakeGateway().start()
    connector_config_save(
        actor=None,
        connector="training_gateway",
        base_url=gateway.url,
        credentials=gateway.credentials,
        max_attempts=12,
        timeout_seconds=CONNECTOR_TIMEOUT_SECONDS,
    )
    connector = connector_load()
    if connector is None:
        raise CouldNotMeasure("the connector is not configured")
    lease_seconds = connector.lease_seconds
    started = time.perf_counter()
    deliver(max(1, round(jobs / JOBS_PER_LEARNER / COHORTS)))
    queued = queue_everything()
    kinds = Counter(SyncJob.objects.values_list("entity_type", flat=True))
    log(f"{queued} jobs queued in {time.perf_counter() - started:.1f} s: {dict(kinds)}")
    if queued == 0:
        raise CouldNotMeasure("no job was queued")
    gateway.failure_ratio = failure_ratio

    database = connection.settings_dict
    database_url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    connections.close_all()
    pool = Pool(
        database_url,
        institution.schema_name,
        time.time() + DEADLINE_SECONDS,
        batch_size or SWEEP_BATCH_SIZE,
    )
    log(
        f"{workers} worker processes sweeping"
        + (f"; one is killed when {KILL_AT:.0%} have finished" if kill else "")
    )
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    for _ in range(workers):
        pool.start()
    finished = SyncJob.objects.filter(status__in=FINISHED)
    while pool.running():
        time.sleep(0.2)
        if kill and not pool.killed and finished.count() >= KILL_AT * queued:
            pool.kill_one(lease_seconds=lease_seconds)
    elapsed = time.perf_counter() - started
    cpu = [after - before for after, before in zip(cpu_seconds(), cpu_before, strict=True)]
    gateway.stop()
    if time.time() >= pool.deadline:
        raise CouldNotMeasure(f"the workers did not finish within {DEADLINE_SECONDS} s")
    if pool.failed():
        raise CouldNotMeasure(f"a worker failed (exit status {pool.failed()})")

    statuses = dict(SyncJob.objects.order_by().values_list("status").annotate(n=Count("id")))
    outcomes = dict(SyncAttempt.objects.order_by().values_list("outcome").annotate(n=Count("id")))
    failures = sum(1 for item in gateway.submissions if item.behaviour == "error_500")
    log(
        f"sent in {elapsed:.1f} s: jobs {statuses}; attempts {outcomes}; "
        f"{len(gateway.submissions)} requests, {failures} failed by injection"
    )
    finished_count = sum(statuses.get(status, 0) for status in FINISHED)
    if finished_count == 0:
        raise CouldNotMeasure("no job finished")
    log(
        f"  CPU while sending: workers {cpu[0]:.1f} s, the gateway {cpu[1]:.1f} s "
        f"({1000 * sum(cpu) / finished_count:.1f} ms per job, the database's not counted; "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})"
    )
    return {
        **counted(gateway, finished_count=finished_count),
        "jobs_per_s": finished_count / elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--failure-ratio", type=float, default=0.1)
    args = parser.parse_args()
    return run_benchmark("sync", lambda: measure(args.jobs, args.workers, args.failure_ratio))


if __name__ == "__main__":
    sys.exit(main())
