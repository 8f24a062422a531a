"""Training delivery benchmark: a trainer saving the register and the gradebook of a run of 200
learners, and the certificates of those 200 issued in one batch.

    .venv/bin/python bench/delivery.py [--learners 200] [--rounds 7] [--workers N] [--keep]

Setup (not timed), through the services wherever the pages use them: an institution as
provisioning makes it, a programme of four core courses, a trainer, a moderator and an active
cohort of 200 learners (accounts, learner records and enrolments written in bulk, as an
import leaves them), the cohort's runs created from its programme (which enrols every learner
in each), and a weekly schedule of sessions in the weeks behind us. Then, timed, each service
as its page calls it, in turns with its baseline so that both see the same machine load:

- register: `register_save` of a session's register, everyone marked present in one tap (200
  records written), then the second save of the same register with its exceptions (some
  absent, late or excused with a reason); baseline: the same 200 records saved one by one with
  Model.save() in one transaction;
- gradebook: `gradebook_save` of the grid as posted (every existing column, unchanged, and a
  new column of 200 results), then a save correcting one whole column of 200 with a reason
  (history rows kept); baselines: the same 200 results, then the same 200 corrections and
  their history rows, saved one by one with Model.save() in one transaction;
- certificates: every run's results moderated and the programme outcomes recorded (setup);
  then a few certificates issued one at a time in this process (`certificate_issue`, as the
  learner's page does), and the rest of the cohort's in one batch:
  `certificates_issue_for_cohort` and the parts it hands to the worker
  (`certificates_issue_part_task`, each certificate rendered, sealed, stored and audited in its
  own transaction), shared by `--workers` processes as the worker's processes share them (one
  per core by default, as Celery's concurrency). Baseline: a blank page rendered and sealed
  the same way, the least any sealed PDF costs; also the certificate's rendering and sealing
  alone.

Runs in a scratch database of its own (see scratch.py), files in a temporary directory.
Progress goes to stderr; stdout ends with one figure per line (medians of the rounds):

    learners: <int>
    register_save_s: <float>             the first save of a register of 200
    register_exceptions_save_s: <float>  its second save with the exceptions
    baseline_register_one_by_one_s: <float>
    gradebook_save_s: <float>            a grid with a new column of 200 results
    gradebook_correct_s: <float>         a grid correcting a column of 200
    baseline_gradebook_one_by_one_s: <float>
    baseline_corrections_one_by_one_s: <float>
    certificates: <int>
    workers: <int>
    certificate_s: <float>               the batch's time per certificate
    certificate_cpu_s: <float>           CPU time per certificate in the worker processes
    certificate_one_at_a_time_s: <float> one certificate issued on its own, in one process
    certificate_render_s: <float>
    certificate_seal_s: <float>
    baseline_blank_sealed_pdf_s: <float>

Targets: register_save_s, register_exceptions_save_s, gradebook_save_s and
gradebook_correct_s under 0.3 s each, certificate_s under 0.3 s. The exit status is non-zero
when one is missed or anything could not be measured.

Measured on the development machine (2 cores, busy with other work: load 4 to 9): the saves
0.04 to 0.2 s (one by one: 0.2 to 1.2 s); a certificate 0.34 to 0.48 s in the batch with two
processes, 0.3 s of CPU each, two thirds of it WeasyPrint's rendering and most of the rest
pyHanko's seal (a blank page sealed costs 0.08 to 0.13 s). A save of 200 corrections took
0.5 s while it read every learner's whole enrolment and every result's whole row.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal

from scratch import CouldNotMeasure, log, run_benchmark

TARGET_S = 0.3
WORKERS = os.cpu_count() or 1
TARGETS = (
    "register_save_s",
    "register_exceptions_save_s",
    "gradebook_save_s",
    "gradebook_correct_s",
    "certificate_s",
)
COURSES = (
    ("BA401", "Business communication"),
    ("BA402", "Office administration"),
    ("BA403", "Financial record keeping"),
    ("BA404", "Customer service"),
)
FIRST_NAMES = ("Thandi", "Sipho", "Lerato", "Johan", "Ayesha", "Pieter", "Naledi", "Kagiso")
LAST_NAMES = ("Nkosi", "Dlamini", "van der Merwe", "Naidoo", "Botha", "Mokoena", "Pillay")
EXCUSES = ("Clinic visit, letter seen", "Funeral in the family", "Court date, notice seen")


def _today() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate()


def _median(values: list[float]) -> float:
    return statistics.median(values)


# --- Setup (not timed) ---------------------------------------------------------------------


def _people():
    """The admin provisioning made, a trainer and a moderator (both through the services)."""
    from accounts.models import SystemRole, User
    from accounts.services import system_role_give
    from delivery.services.trainers import TrainerDetails, trainer_create

    admin = User.objects.get(email="admin@bench.example")
    admin.full_name = "Lerato Khumalo"
    admin.save(update_fields=["full_name"])
    trainer = trainer_create(
        actor=admin,
        email="trainer@bench.example",
        details=TrainerDetails(name="Johan Botha", accreditation_number="ETDP-0042"),
    )
    moderator = User.objects.create_user("moderator@bench.example", None, full_name="Naledi Zulu")
    system_role_give(users=[moderator], key=SystemRole.MODERATOR, granted_by=admin)
    return admin, trainer, moderator


def _programme(admin):
    from academics.services import (
        academic_session_create,
        academic_year_create,
        course_create,
        programme_create,
    )

    today = _today()
    year = academic_year_create(
        actor=admin,
        fields={
            "name": f"{today.year - 1}/{today.year + 1}",
            "starts_on": today - datetime.timedelta(days=365),
            "ends_on": today + datetime.timedelta(days=365),
        },
    )
    academic_session_create(
        actor=admin,
        fields={
            "academic_year": year,
            "name": "This term",
            "code": "TERM",
            "start_date": today - datetime.timedelta(days=200),
            "end_date": today + datetime.timedelta(days=200),
            "is_current": True,
        },
    )
    programme = programme_create(
        actor=admin,
        fields={
            "name": "Business Administration NQF 4",
            "code": "BA-NQF4",
            "duration_years": Decimal("1"),
            "total_credits": 120,
            "degree_type": "learnership",
            "nqf_level": 4,
            "saqa_qualification_id": "61595",
        },
    )
    for code, name in COURSES:
        course_create(
            actor=admin,
            fields={
                "programme": programme,
                "code": code,
                "name": name,
                "credits": 30,
                "hours_per_week": 6,
            },
        )
    return programme


def _cohort(admin, programme):
    from cohorts.models import Cohort, CohortState
    from signing.models import AgreementTemplate

    template = AgreementTemplate.objects.order_by("pk").first()
    today = _today()
    return Cohort.objects.create(
        name="Business Administration learnership",
        program_type="learnership",
        student_count=250,
        start_date=today - datetime.timedelta(days=90),
        end_date=today + datetime.timedelta(days=30),
        main_template=template,
        main_template_version=template.versions.get(number=template.version) if template else None,
        admin_signed_at=datetime.datetime.now(datetime.UTC),
        admin_signed_by=admin,
        created_by=admin,
        programme=programme,
        state=CohortState.ACTIVE,
    )


def _learners_enrol(cohort, count: int, chooser: random.Random) -> None:
    """Bulk set-up: student accounts, learner records and their cohort enrolments in progress,
    as an import leaves them."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import SystemRole, User
    from accounts.services import system_role_give
    from enrolments.models import CohortEnrollment, EnrollmentState
    from learners.models import Learner

    unusable = make_password(None)
    names = [(chooser.choice(FIRST_NAMES), chooser.choice(LAST_NAMES)) for _ in range(count)]
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(
                email=f"learner{index:03d}@bench.example",
                full_name=f"{first} {last}",
                password=unusable,
            )
            for index, (first, last) in enumerate(names)
        )
        system_role_give(users=users, key=SystemRole.STUDENT, granted_by=None)
        learners = Learner.objects.bulk_create(
            Learner(user=user, first_name=first, last_name=last, email=user.email)
            for user, (first, last) in zip(users, names, strict=True)
        )
        CohortEnrollment.objects.bulk_create(
            CohortEnrollment(
                cohort=cohort, user=user, learner=learner, state=EnrollmentState.IN_PROGRESS
            )
            for user, learner in zip(users, learners, strict=True)
        )


def _runs(admin, cohort, trainer, learners: int):
    """The cohort's runs from its programme (every learner enrolled) and a schedule of three
    sessions a week for the first run, from the cohort's start to yesterday."""
    from delivery.models import CourseEnrollment
    from delivery.services.runs import cohort_runs_create
    from delivery.services.sessions import sessions_schedule_weekly

    created = cohort_runs_create(actor=admin, cohort=cohort, trainer=trainer, venue="Room 4")
    runs = sorted(created.runs, key=lambda run: run.course_ref)
    for run in runs:
        enrolled = CourseEnrollment.objects.filter(course_run=run).count()
        if enrolled != learners:
            raise CouldNotMeasure(f"{run.course_ref} has {enrolled} learners, not {learners}")
    schedule = sessions_schedule_weekly(
        actor=admin,
        run=runs[0],
        weekdays=[0, 2, 4],
        first=cohort.start_date,
        last=_today() - datetime.timedelta(days=1),
        start_time=datetime.time(9),
        end_time=datetime.time(12),
    )
    return runs, schedule.sessions


# --- Register ------------------------------------------------------------------------------


def _register_marks(rows, chooser: random.Random, *, exceptions: bool):
    """The marks the register page posts: every row; blank before the one tap, and the
    exceptions among everyone present after it."""
    from delivery.models import AttendanceStatus
    from delivery.services.attendance import Mark

    marks = {}
    for row in rows:
        if not exceptions:
            marks[row.enrolment_id] = Mark(AttendanceStatus.UNKNOWN)
            continue
        draw = chooser.random()
        if draw < 0.06:
            marks[row.enrolment_id] = Mark(AttendanceStatus.ABSENT)
        elif draw < 0.10:
            marks[row.enrolment_id] = Mark(AttendanceStatus.LATE, "Taxi strike")
        elif draw < 0.12:
            marks[row.enrolment_id] = Mark(AttendanceStatus.EXCUSED, chooser.choice(EXCUSES))
        else:
            marks[row.enrolment_id] = Mark(AttendanceStatus.PRESENT)
    return marks


def _register_baseline(session, rows, actor) -> float:
    from django.db import transaction

    from delivery.models import AttendanceRecord, AttendanceStatus

    started = time.perf_counter()
    with transaction.atomic():
        for row in rows:
            AttendanceRecord(
                session=session,
                enrolment_id=row.enrolment_id,
                status=AttendanceStatus.PRESENT,
                recorded_by=actor,
            ).save()
    return time.perf_counter() - started


def measure_register(sessions, trainer_user, rounds: int, learners: int) -> dict[str, float]:
    from delivery.models import AttendanceRecord
    from delivery.selectors.attendance import register_entries
    from delivery.services.attendance import register_save

    if len(sessions) < 2 * rounds:
        raise CouldNotMeasure(f"{len(sessions)} sessions, {2 * rounds} needed")
    chooser = random.Random(16)  # noqa: S311 (who is absent, not secrets)
    firsts, seconds, baselines = [], [], []
    for index in range(rounds):
        session, other = sessions[2 * index], sessions[2 * index + 1]
        rows = register_entries(session)
        blank = _register_marks(rows, chooser, exceptions=False)
        started = time.perf_counter()
        written = register_save(session=session, actor=trainer_user, marks=blank, rest_present=True)
        firsts.append(time.perf_counter() - started)
        if written != learners:
            raise CouldNotMeasure(f"the one tap wrote {written} records, not {learners}")
        rows = register_entries(session)
        marks = _register_marks(rows, chooser, exceptions=True)
        started = time.perf_counter()
        changed = register_save(session=session, actor=trainer_user, marks=marks)
        seconds.append(time.perf_counter() - started)
        baselines.append(_register_baseline(other, register_entries(other), trainer_user))
        if AttendanceRecord.objects.filter(session=other).count() != learners:
            raise CouldNotMeasure("the baseline did not write every record")
        log(
            f"register {index + 1}: {firsts[-1]:.3f} s, exceptions ({changed}) "
            f"{seconds[-1]:.3f} s; one by one {baselines[-1]:.3f} s"
        )
    return {
        "register_save_s": _median(firsts),
        "register_exceptions_save_s": _median(seconds),
        "baseline_register_one_by_one_s": _median(baselines),
    }


# --- Gradebook -----------------------------------------------------------------------------


def _score(chooser: random.Random) -> str:
    """A mark as a trainer types it: most pass (at 50), a few do not."""
    return str(chooser.randint(44, 96) if chooser.random() < 0.03 else chooser.randint(50, 96))


def _grid(run, columns: list[str]) -> dict[tuple[int, str], str]:
    """The grid as the page posts it: every cell of `columns` as shown."""
    from delivery.models import Assessment
    from delivery.services.assessments import mark_shown

    return {
        (assessment.enrolment_id, assessment.assessment_type): mark_shown(assessment)
        for assessment in Assessment.objects.filter(
            enrolment__course_run=run, assessment_type__in=columns
        )
    }


def _gradebook_baseline(run, enrolment_ids, assessor, kind: str, chooser) -> float:
    from django.db import transaction
    from django.utils import timezone

    from delivery.models import Assessment, AssessmentResult

    started = time.perf_counter()
    with transaction.atomic():
        for pk in enrolment_ids:
            score = Decimal(_score(chooser))
            Assessment(
                enrolment_id=pk,
                assessment_type=kind,
                score=score,
                result=AssessmentResult.PASS if score >= 50 else AssessmentResult.FAIL,
                assessed_at=timezone.now(),
                assessor=assessor,
            ).save()
    return time.perf_counter() - started


def _corrections_baseline(run, kind: str, assessor, chooser) -> float:
    from django.db import transaction
    from django.utils import timezone

    from delivery.models import Assessment, AssessmentChange, AssessmentResult

    assessments = list(Assessment.objects.filter(enrolment__course_run=run, assessment_type=kind))
    started = time.perf_counter()
    with transaction.atomic():
        for assessment in assessments:
            score = Decimal(_score(chooser)) + Decimal("0.5")
            result = AssessmentResult.PASS if score >= 50 else AssessmentResult.FAIL
            AssessmentChange(
                assessment=assessment,
                old_score=assessment.score,
                old_result=assessment.result,
                new_score=score,
                new_result=result,
                reason="Remarked after the moderator's review",
                changed_by=assessor,
            ).save()
            assessment.score, assessment.result = score, result
            assessment.assessor, assessment.assessed_at = assessor, timezone.now()
            assessment.save()
    return time.perf_counter() - started


def measure_gradebook(runs, trainer_user, rounds: int, learners: int) -> dict[str, float]:
    from delivery.models import CourseEnrollment
    from delivery.services.assessments import gradebook_save

    run, other = runs[0], runs[1]
    ids = list(CourseEnrollment.objects.filter(course_run=run).values_list("pk", flat=True))
    other_ids = list(CourseEnrollment.objects.filter(course_run=other).values_list("pk", flat=True))
    chooser = random.Random(4)  # noqa: S311 (marks, not secrets)
    columns: list[str] = []
    saves, corrections, baselines, baseline_corrections = [], [], [], []
    for index in range(rounds):
        kind = f"Assignment {index + 1}"
        cells = _grid(run, columns)
        cells.update({(pk, kind): _score(chooser) for pk in ids})
        started = time.perf_counter()
        saved = gradebook_save(run=run, actor=trainer_user, cells=cells)
        saves.append(time.perf_counter() - started)
        if saved.created != learners:
            raise CouldNotMeasure(f"the gradebook created {saved.created} results")
        columns.append(kind)
        baselines.append(_gradebook_baseline(other, other_ids, trainer_user, kind, chooser))
        log(
            f"gradebook {index + 1}: {len(cells)} cells, {saves[-1]:.3f} s; "
            f"one by one {baselines[-1]:.3f} s"
        )
    for index, kind in enumerate(columns):
        cells = _grid(run, columns)
        for pk in ids:
            cells[(pk, kind)] = f"{Decimal(_score(chooser)) + Decimal('0.5')}"
        started = time.perf_counter()
        saved = gradebook_save(
            run=run, actor=trainer_user, cells=cells, reason="Remarked after the moderator's review"
        )
        corrections.append(time.perf_counter() - started)
        if saved.corrected != learners:
            raise CouldNotMeasure(f"the gradebook corrected {saved.corrected} results")
        baseline_corrections.append(_corrections_baseline(other, kind, trainer_user, chooser))
        log(
            f"corrections {index + 1}: {corrections[-1]:.3f} s; "
            f"one by one {baseline_corrections[-1]:.3f} s"
        )
    return {
        "gradebook_save_s": _median(saves),
        "gradebook_correct_s": _median(corrections),
        "baseline_gradebook_one_by_one_s": _median(baselines),
        "baseline_corrections_one_by_one_s": _median(baseline_corrections),
    }


# --- Certificates --------------------------------------------------------------------------


def _results_final(runs, admin, trainer_user, moderator, chooser: random.Random) -> None:
    """Setup: results in every run not yet graded (a few learners failing the last course),
    moderated; then the programme outcomes recorded."""
    from delivery.models import Assessment, CourseEnrollment
    from delivery.services.assessments import gradebook_save
    from delivery.services.moderation import run_moderator_assign, run_results_sign_off
    from delivery.services.outcomes import cohort_outcomes_record

    for number, run in enumerate(runs):
        if not Assessment.objects.filter(enrolment__course_run=run).exists():
            ids = CourseEnrollment.objects.filter(course_run=run).values_list("pk", flat=True)
            last = number == len(runs) - 1
            cells = {
                (pk, "Summative assessment"): "41" if last and pk % 9 == 0 else _score(chooser)
                for pk in ids
            }
            gradebook_save(run=run, actor=trainer_user, cells=cells)
        run = run_moderator_assign(run=run, actor=admin, moderator=moderator)
        run_results_sign_off(run=run, actor=moderator)
    recorded = cohort_outcomes_record(cohort=runs[0].cohort, actor=admin, completion_date=_today())
    log(f"results moderated in {len(runs)} runs, {recorded} programme outcomes recorded")


def _part(cohort_id: int, actor_id: int, enrollment_ids: list[int]) -> tuple[int, float]:
    """One part of the batch in a worker process, as the worker runs the task: how many it
    issued and the CPU time it took."""
    from delivery.tasks import certificates_issue_part_task
    from tenants.db import tenant_connection
    from tenants.models import Institution

    tenant_connection.set_tenant(Institution.objects.get(code="bench"))
    started = time.process_time()
    issued = certificates_issue_part_task(cohort_id, actor_id, enrollment_ids)
    return issued, time.process_time() - started


def measure_certificates(cohort, admin, rounds: int, workers: int) -> dict[str, float | int]:
    import multiprocessing

    from django.db import connections

    from delivery.certificates_pdf import certificate_pdf
    from delivery.models import Certificate, CertificateKind
    from delivery.services.certificates import (
        BATCH_PART_SIZE,
        certificate_issue,
        certificates_due,
        certificates_issue_for_cohort,
        verify_url,
    )
    from signing.documents import html_to_pdf
    from signing.sealing import pdf_seal
    from signing.services.certificates import certificate_for_institution

    seal_with = certificate_for_institution()
    singles = []
    for enrollment in certificates_due(cohort)[:rounds]:
        started = time.perf_counter()
        certificate_issue(enrollment=enrollment, actor=admin)
        singles.append(time.perf_counter() - started)
    log(f"one at a time: {', '.join(f'{single:.3f}' for single in singles)} s")

    due = [enrollment.pk for enrollment in certificates_due(cohort)]
    log(f"issuing the other {len(due)} in one batch, {workers} worker processes ...")
    started = time.perf_counter()
    queued = certificates_issue_for_cohort(cohort=cohort, actor=admin)
    parts = [
        (cohort.pk, admin.pk, due[start : start + BATCH_PART_SIZE])
        for start in range(0, len(due), BATCH_PART_SIZE)
    ]
    # The worker's processes (its concurrency: one per core by default) share the parts, each
    # with a database connection of its own; forked here as the worker forks its own.
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        done = pool.starmap(_part, parts)
    elapsed = time.perf_counter() - started
    issued = sum(count for count, _cpu in done)
    if queued != len(due) or issued != len(due):
        raise CouldNotMeasure(f"{len(due)} due, {queued} queued, {issued} issued")
    log(f"  {issued} in {elapsed:.1f} s")
    kinds = {
        kind: Certificate.objects.filter(enrollment__cohort=cohort, kind=kind).count()
        for kind in CertificateKind.values
    }
    log(f"  issued {kinds}")

    contents = [c.contents for c in Certificate.objects.order_by("pk")[:rounds]]
    renders, seals, blanks = [], [], []
    for content in contents:
        started = time.perf_counter()
        document = certificate_pdf(content, verify_url=verify_url())
        middle = time.perf_counter()
        pdf_seal(
            document, certificate=seal_with, reason=f"Certificate {content['verification_code']}"
        )
        ended = time.perf_counter()
        blank = html_to_pdf("<!doctype html><html><body></body></html>")
        pdf_seal(blank, certificate=seal_with, reason="Blank page")
        blanks.append(time.perf_counter() - ended)
        renders.append(middle - started)
        seals.append(ended - middle)
    return {
        "certificates": issued + len(singles),
        "workers": workers,
        "certificate_s": elapsed / issued,
        "certificate_cpu_s": sum(cpu for _count, cpu in done) / issued,
        "certificate_one_at_a_time_s": _median(singles),
        "certificate_render_s": _median(renders),
        "certificate_seal_s": _median(seals),
        "baseline_blank_sealed_pdf_s": _median(blanks),
    }


# --- Main ----------------------------------------------------------------------------------


def measure(learners: int, rounds: int, workers: int) -> dict[str, float | int]:
    from tenants.db import tenant_connection
    from tenants.services import institution_provision

    log("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    institution = institution_provision(
        name="Bench College", code="bench", admin_email="admin@bench.example"
    )
    tenant_connection.set_tenant(institution)
    chooser = random.Random(2027)  # noqa: S311 (names and marks, not secrets)
    admin, trainer, moderator = _people()
    programme = _programme(admin)
    cohort = _cohort(admin, programme)
    _learners_enrol(cohort, learners, chooser)
    runs, sessions = _runs(admin, cohort, trainer, learners)
    log(f"{learners} learners in {len(runs)} runs, {len(sessions)} sessions of the first run")

    figures: dict[str, float | int] = {"learners": learners}
    figures.update(measure_register(sessions, trainer.user, rounds, learners))
    figures.update(measure_gradebook(runs, trainer.user, rounds, learners))
    _results_final(runs, admin, trainer.user, moderator, chooser)
    figures.update(measure_certificates(cohort, admin, rounds, workers))
    log("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--workers", type=int, default=WORKERS, help="worker processes (default: one per core)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if not 10 <= args.learners <= 2000 or not 1 <= args.rounds <= 12 or args.workers < 1:
        parser.error(
            "--learners must be between 10 and 2000, --rounds between 1 and 12, --workers 1 or more"
        )
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="cohortly-bench-delivery-")

    figures: dict[str, float | int] = {}

    def run() -> dict[str, float | int]:
        figures.update(measure(args.learners, args.rounds, args.workers))
        return figures

    status = run_benchmark("delivery", run, keep=args.keep)
    if status != 0:
        return status
    missed = [name for name in TARGETS if figures[name] >= TARGET_S]
    for name in missed:
        log(f"missed the target: {name} under {TARGET_S} s")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
