"""Reports benchmark: the equity breakdown and the full cohort-progress export over 100,000
enrolments, as CSV and as XLSX, and the memory the exports take.

    .venv/bin/python bench/reports.py [--enrolments 100000] [--keep]

Works in a scratch database of its own (see scratch.py) with one freshly provisioned
institution. Set-up, not measured, written with COPY (`audit.bulk.rows_copy`): 40 cohorts of
two programmes over four years, each requiring two documents, with one course run of two
sessions; 100,000 learners (each with an account and known demographics) enrolled one per
cohort place, each in their cohort's run and marked on both registers.

Then:

- equity: the "equity" report grouped per cohort, per programme and per year (one GROUP BY
  query each), the slowest of the three; the baseline is counting the same enrolments;
- export: the "cohort_progress" report of every cohort, written by `reports.exports.csv_write`
  (and `xlsx_write`) into a file, each in a child process of its own that times the export
  and reports its peak resident memory (VmHWM); the memory baseline is a child that sets
  up Django and the institution and stops there, so `export_peak_mb` is what the export
  itself added. The time baseline writes as many rows of fixed values through `csv_write`
  without the database.

Progress goes to stderr; stdout ends with:

    enrolments: <int>
    equity_s: <float>
    equity_baseline_count_s: <float>
    export_s: <float>
    export_xlsx_s: <float>
    export_baseline_csv_s: <float>
    export_peak_mb: <float>
    export_csv_rss_mb: <float>
    export_xlsx_rss_mb: <float>
    baseline_rss_mb: <float>

Targets: equity_s under 2, export_s under 20, export_peak_mb under 200 (for both formats);
the exit status is non-zero when one is missed or anything could not be measured.
"""

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from scratch import CouldNotMeasure, log, run_benchmark

TARGET_EQUITY_S = 2.0
TARGET_EXPORT_S = 20.0
TARGET_PEAK_MB = 200.0
COHORTS = 40
CHUNK = 10_000
RACES = ["african", "african", "african", "coloured", "indian", "white", "prefer_not_to_say", ""]
GENDERS = ["female", "male", "female", "male", "non_binary", ""]
DISABILITIES = ["none"] * 12 + ["sight", "hearing", "physical", "multiple", ""]


def _cohorts(admin) -> list:
    """Set-up: two programmes with a course each, 40 cohorts over four years, a run each."""
    from academics.models import Course, Programme
    from cohorts.models import Cohort, CohortState, DocumentType
    from delivery.models import CourseRun, Session

    required = list(DocumentType.objects.filter(is_active=True)[:2])
    programmes = []
    for code, name in (("BA4", "Business Administration NQF 4"), ("IT5", "IT Systems NQF 5")):
        programme = Programme.objects.create(
            name=name, code=code, duration_years=1, total_credits=120, degree_type="learnership"
        )
        course = Course.objects.create(programme=programme, code=f"{code}-1", name=name, credits=30)
        programmes.append((programme, course))
    made = []
    for number in range(COHORTS):
        programme, course = programmes[number % 2]
        start = datetime.date(2024 + number % 4, 2, 1)
        cohort = Cohort.objects.create(
            name=f"{programme.code} {start.year} group {number:02d}",
            program_type="learnership",
            student_count=5000,
            start_date=start,
            end_date=start.replace(month=11, day=30),
            state=CohortState.ACTIVE,
            created_by=admin,
            programme=programme,
        )
        cohort.required_document_types.set(required)
        run = CourseRun.objects.create(
            cohort=cohort,
            course=course,
            course_ref=course.code,
            title=course.name,
            start_date=start,
            end_date=cohort.end_date,
        )
        sessions = [
            Session.objects.create(
                course_run=run,
                session_date=start + datetime.timedelta(days=day),
                start_time=datetime.time(9),
                end_time=datetime.time(12),
            )
            for day in (0, 7)
        ]
        made.append((cohort, run, sessions))
    return made


def _enrol(cohorts: list, count: int) -> None:
    """Set-up: `count` learners with accounts, one enrolment each, spread over the cohorts,
    each in their cohort's run and marked on both its registers."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.models import User
    from audit.bulk import rows_copy
    from delivery.models import AttendanceRecord, CourseEnrollment
    from enrolments.models import CohortEnrollment, EnrollmentState, ProgrammeOutcome
    from learners.models import Learner

    chooser = random.Random(21)  # noqa: S311 (made-up demographics, not secrets)
    unusable = make_password(None)
    states = [EnrollmentState.IN_PROGRESS] * 6 + [EnrollmentState.COMPLETE] * 3
    states.append(EnrollmentState.WITHDRAWN)
    marks = ["present", "present", "present", "late", "absent", "excused"]
    started = time.perf_counter()
    for first in range(0, count, CHUNK):
        numbers = range(first, min(first + CHUNK, count))
        with transaction.atomic():
            users = [
                User(email=f"learner{n:06d}@bench.example", full_name=f"Learner {n:06d}",
                     password=unusable)
                for n in numbers
            ]  # fmt: skip
            rows_copy(User, users)
            learners = [
                Learner(
                    user=user,
                    first_name="Learner",
                    last_name=f"{n:06d}",
                    race=chooser.choice(RACES),
                    gender=chooser.choice(GENDERS),
                    disability=chooser.choice(DISABILITIES),
                )
                for n, user in zip(numbers, users, strict=True)
            ]
            rows_copy(Learner, learners)
            enrollments = []
            for n, user, learner in zip(numbers, users, learners, strict=True):
                cohort, _run, _sessions = cohorts[n % len(cohorts)]
                state = chooser.choice(states)
                done = state == EnrollmentState.COMPLETE
                enrollments.append(
                    CohortEnrollment(
                        cohort=cohort,
                        user=user,
                        learner=learner,
                        state=state,
                        programme_outcome=ProgrammeOutcome.COMPLETED if done else "",
                        completion_date=cohort.end_date if done else None,
                    )
                )
            rows_copy(CohortEnrollment, enrollments)
            runs = [cohorts[n % len(cohorts)][1] for n in numbers]
            places = [
                CourseEnrollment(
                    enrollment=enrollment,
                    course_id=run.course_id,
                    course_run=run,
                    enrollment_date=run.start_date,
                )
                for run, enrollment in zip(runs, enrollments, strict=True)
            ]
            rows_copy(CourseEnrollment, places)
            rows_copy(
                AttendanceRecord,
                [
                    AttendanceRecord(session=session, enrolment=place, status=chooser.choice(marks))
                    for n, place in zip(numbers, places, strict=True)
                    for session in cohorts[n % len(cohorts)][2]
                ],
            )
        log(f"  {first + len(numbers):,} enrolments")
    with connection.cursor() as cursor:
        for model in (User, Learner, CohortEnrollment, CourseEnrollment, AttendanceRecord):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    log(f"set up in {time.perf_counter() - started:.1f} s")


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure_equity() -> dict[str, float]:
    from enrolments.models import CohortEnrollment
    from reports.registry import report_for

    report = report_for("equity")
    params = {"cohort": None, "programme": None, "year": None, "include_withdrawn": False}
    timings = {}
    for group_by in ("cohort", "programme", "year"):
        started = time.perf_counter()
        rows = list(report.rows({**params, "group_by": group_by}))
        seconds = time.perf_counter() - started
        if not rows:
            raise CouldNotMeasure(f"the equity breakdown per {group_by} has no rows")
        timings[group_by] = seconds
        log(f"equity per {group_by}: {len(rows):,} rows in {seconds:.3f} s")
    baseline = _timed(lambda: CohortEnrollment.objects.count())
    return {"equity_s": max(timings.values()), "equity_baseline_count_s": baseline}


def _child(kind: str) -> dict[str, float]:
    """In a child process: export (or, for the baseline, only get ready to) and report the
    export's time, its rows and this process's peak memory."""
    from scratch import configure_django

    configure_django(os.environ["DATABASE_URL"])
    from reports.exports import csv_write, xlsx_write
    from reports.registry import report_for
    from tenants.db import tenant_connection
    from tenants.models import Institution

    tenant_connection.set_tenant(Institution.objects.get(code="bench"))
    report = report_for("cohort_progress")
    params = {"cohort": None, "programme": None, "year": None, "state": ""}
    rows = 0
    started = time.perf_counter()
    if kind != "baseline":
        with tempfile.TemporaryFile() as out:
            if kind == "csv":
                rows = csv_write(report.rows(params), report.columns, out, threshold=5)
            else:
                rows = xlsx_write(
                    report.rows(params), report.columns, out, title=report.title, threshold=5
                )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "rss_mb": _peak_rss_kb() / 1024}


def _peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux keeps
    that across exec, so a child would report its parent's peak from before it started."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise CouldNotMeasure("this system does not report peak memory (/proc/self/status)")


def _in_child(kind: str) -> dict[str, float]:
    done = subprocess.run(  # noqa: S603 (this script, with a fixed argument)
        [sys.executable, __file__, "--child", kind],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    if done.returncode != 0:
        log(done.stderr)
        raise CouldNotMeasure(f"the {kind} child failed (exit {done.returncode})")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"{kind}: {figures}")
    return figures


def measure_exports(count: int) -> dict[str, float]:
    from reports.exports import csv_write
    from reports.registry import report_for

    baseline = _in_child("baseline")
    csv_run = _in_child("csv")
    xlsx_run = _in_child("xlsx")
    for kind, run in (("CSV", csv_run), ("XLSX", xlsx_run)):
        if run["rows"] != count:
            raise CouldNotMeasure(f"the {kind} export wrote {run['rows']:,} rows, not {count:,}")
    columns = report_for("cohort_progress").columns
    fixed = {column.key: "Learner 000000" for column in columns}
    with tempfile.TemporaryFile() as out:
        plain = _timed(lambda: csv_write((fixed for _ in range(count)), columns, out, threshold=5))
    return {
        "export_s": csv_run["seconds"],
        "export_xlsx_s": xlsx_run["seconds"],
        "export_baseline_csv_s": plain,
        "export_peak_mb": max(csv_run["rss_mb"], xlsx_run["rss_mb"]) - baseline["rss_mb"],
        "export_csv_rss_mb": csv_run["rss_mb"],
        "export_xlsx_rss_mb": xlsx_run["rss_mb"],
        "baseline_rss_mb": baseline["rss_mb"],
    }


def measure(count: int) -> dict[str, float | int]:
    from accounts.models import User
    from tenants.db import tenant_connection
    from tenants.services import institution_provision

    institution = institution_provision(
        name="Bench College", code="bench", admin_email="admin@bench.example"
    )
    tenant_connection.set_tenant(institution)
    log(f"setting up {count:,} enrolments ...")
    _enrol(_cohorts(User.objects.get(email="admin@bench.example")), count)
    return {"enrolments": count, **measure_equity(), **measure_exports(count)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrolments", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--child", choices=["baseline", "csv", "xlsx"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return 0
    if not 1_000 <= args.enrolments <= 1_000_000:
        parser.error("--enrolments must be between 1,000 and 1,000,000")

    figures: dict[str, float | int] = {}

    def run() -> dict[str, float | int]:
        figures.update(measure(args.enrolments))
        return figures

    status = run_benchmark("reports", run, keep=args.keep)
    if status != 0:
        return status
    missed = [
        f"{name} under {target}"
        for name, target in (
            ("equity_s", TARGET_EQUITY_S),
            ("export_s", TARGET_EXPORT_S),
            ("export_peak_mb", TARGET_PEAK_MB),
        )
        if figures[name] >= target
    ]
    if missed:
        log(f"missed the target: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
