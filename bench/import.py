"""Student import benchmark: the bulk import against the one-by-one service, on 10,000 rows.

    .venv/bin/python bench/import.py [--students 10000] [--keep]

Works in a scratch database of its own (created fresh, dropped at the end), on the server named
by DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cohortly); dev and test databases
are never touched. Celery messages go to an in-memory broker and e-mail to a dummy backend, so
neither Redis nor a mailbox sees anything.

One generated CSV file (full_name, email, id_number, gender, race, disability) is imported twice,
each time into a fresh cohort of its own freshly provisioned institution, so that both paths
create every account from scratch (after a warm-up of both on 5 rows, and a CHECKPOINT before
each measurement):

- ours: what `manage.py import_students` does: `spreadsheet_read` and `rows_check` (every row
  checked), then `cohorts.imports.writing.enrollments_import` (bulk writes in one transaction,
  e-mails queued in the outbox and handed to workers after commit in chunks);
- baseline: the plain per-row approach: the stdlib csv reader, the same per-row check
  (`row_clean`), then `enrolments.services.enrollment_invite` for each row (as the "invite a
  student" page does), all in one transaction like the bulk import, so that the difference is
  the queries per row and not a commit per row.

Both create the same rows per student: account, directory entry, enrolment, invitation, queued
e-mail and audit event; the run checks this afterwards, and that both audit chains verify.
Progress goes to stderr; stdout ends with:

    ours_s: <float>
    baseline_s: <float>
    ratio: <baseline/ours float>

The exit status is non-zero when anything could not be measured.
"""

import argparse
import csv
import datetime
import io
import os
import random
import sys
import time

from scratch import log, run_benchmark

COLUMNS = ("full_name", "email", "id_number", "gender", "race", "disability")


# --- The file ------------------------------------------------------------------------------


def generated_file(count: int) -> bytes:
    """`count` distinct students with valid, distinct ID numbers and a spread of the accepted
    values."""
    from stdnum import luhn

    from learners.choices import Disability, Gender, Race

    chooser = random.Random(20270201)  # noqa: S311 (test data, not secrets)
    first = ["Thandi", "Sipho", "Lerato", "Johan", "Ayesha", "Pieter", "Naledi", "Kagiso"]
    last = ["Nkosi", "Dlamini", "van der Merwe", "Naidoo", "Botha", "Mokoena", "Pillay"]
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(COLUMNS)
    for index in range(count):
        # Distinct numbers, as the import requires: the sequence digits count within each block
        # of 10,000; six blocks in a row have birth years of their own, and each round of six
        # a day of the month of its own.
        block, serial = divmod(index, 10_000)
        year = 85 - 15 * (block % 6) + chooser.randint(0, 14)
        month, day = chooser.randint(1, 12), block // 6 + 1
        body = f"{year:02d}{month:02d}{day:02d}{serial:04d}08"
        writer.writerow(
            [
                f"{chooser.choice(first)} {chooser.choice(last)}",
                f"student{index:05d}@bench.example.org",
                body + luhn.calc_check_digit(body),
                chooser.choice(Gender.labels),
                chooser.choice(Race.values),
                chooser.choice(Disability.labels),
            ]
        )
    return output.getvalue().encode()


# --- The two ways to import ----------------------------------------------------------------


def import_ours(content: bytes, cohort, actor) -> None:
    from cohorts.imports.reading import spreadsheet_read
    from cohorts.imports.validation import rows_check
    from cohorts.imports.writing import enrollments_import

    started = time.perf_counter()
    spreadsheet = spreadsheet_read(content)
    report = rows_check(cohort=cohort, rows=spreadsheet.rows)
    if report.invalid:
        raise RuntimeError(f"ours: {len(report.invalid)} rows refused: {report.invalid[:3]}")
    checked = time.perf_counter()
    enrollments_import(cohort=cohort, actor=actor, rows=report.valid, reference="bench")
    log(
        f"  ours: read and checked in {checked - started:.3f} s, "
        f"imported in {time.perf_counter() - checked:.3f} s"
    )


def import_baseline(content: bytes, cohort, actor) -> None:
    from django.db import transaction

    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    # All or nothing, like the bulk import: one transaction, so each row costs its queries but
    # not a commit of its own.
    with transaction.atomic():
        _invite_each(reader, cohort, actor)


def _invite_each(reader, cohort, actor) -> None:
    from cohorts.imports.validation import row_clean
    from enrolments.services import enrollment_invite_in_transaction

    for index, values in enumerate(reader, start=1):
        cleaned, messages = row_clean(values)
        if messages:
            raise RuntimeError(f"baseline: row {index + 1} refused: {messages}")
        enrollment_invite_in_transaction(
            cohort=cohort,
            actor=actor,
            email=cleaned["email"],
            full_name=cleaned["full_name"],
            id_number=cleaned.get("id_number", ""),
        )
        if index % 1000 == 0:
            log(f"  baseline: {index} rows")


def prepared(code: str):
    """A fresh institution with an admin and a draft cohort, ready to import into."""
    from django_tenants.utils import tenant_context

    from accounts.models import SystemRole, User
    from accounts.services import system_role_give
    from cohorts.services import cohort_create
    from tenants.services import institution_provision

    institution = institution_provision(
        name=f"Bench {code}", code=code, admin_email=f"founder@{code}.example", admin_name="F"
    )
    with tenant_context(institution):
        admin = User.objects.create_user(f"admin@{code}.example", "not-used-bench-password")
        system_role_give(users=[admin], key=SystemRole.ADMIN, granted_by=None)
        cohort = cohort_create(
            actor=admin,
            name="Bench learnership",
            program_type="learnership",
            student_count=10_000,
            start_date=datetime.date(2027, 2, 1),
            end_date=datetime.date(2027, 11, 30),
        )
    return institution, admin, cohort


def timed_import(function, content: bytes, code: str) -> float:
    from django.db import connection
    from django_tenants.utils import tenant_context

    from tenants.db import tenant_connection

    institution, admin, cohort = prepared(code)
    # Write out what setting up left dirty, so that neither path pays for it mid-measurement.
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    with tenant_context(institution):
        started = time.perf_counter()
        function(content, cohort, admin)
        elapsed = time.perf_counter() - started
    tenant_connection.set_schema_to_public()
    return elapsed


def check_imported(code: str, count: int) -> None:
    """Fail loudly unless the import left every row a student needs, and a sound audit chain."""
    from django_tenants.utils import tenant_context

    from accounts.models import Invitation, SystemRole, User
    from audit.models import AuditEvent
    from audit.selectors import audit_chain_first_break
    from enrolments.models import CohortEnrollment
    from notifications.models import OutboundEmail
    from tenants.models import Institution, InstitutionDirectoryEntry

    institution = Institution.objects.get(code=code)
    with tenant_context(institution):
        found = {
            "students": User.objects.filter(roles__key=SystemRole.STUDENT).count(),
            "enrolments": CohortEnrollment.objects.count(),
            "invitations": Invitation.objects.filter(user__roles__key=SystemRole.STUDENT).count(),
            "e-mails": OutboundEmail.objects.filter(
                template="invitation", recipient__endswith="@bench.example.org"
            ).count(),
            "audit events": AuditEvent.objects.filter(action="enrollment.invited").count(),
            # The platform's directory: the founder and the admin are not in it for this test.
            "directory entries": InstitutionDirectoryEntry.objects.filter(
                institution=institution
            ).count()
            - 1,
        }
        broken = audit_chain_first_break()
    wrong = {name: value for name, value in found.items() if value != count}
    if wrong:
        raise RuntimeError(f"{code}: expected {count} of each, found {wrong}")
    if broken is not None:
        raise RuntimeError(f"{code}: audit chain broken at event {broken.pk}")
    log(f"  {code}: {count} of each of {', '.join(found)}; audit chain intact")


# --- Main ----------------------------------------------------------------------------------


def measure(students: int) -> dict[str, float]:
    log("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    content = generated_file(students)
    log(f"generated {students} students, {len(content) / 1024 / 1024:.2f} MB of CSV")

    # Both paths once on a few rows first, so that neither pays for first-use costs (imports,
    # the URL resolver, the database's catalogue caches) in its measurement.
    warm_up = generated_file(5)
    for function in (import_ours, import_baseline):
        timed_import(function, warm_up, f"bench-warm-{function.__name__.replace('_', '-')}")
    log("warmed up both paths on 5 rows")

    log("ours: reading, checking and importing in bulk ...")
    ours = timed_import(import_ours, content, "bench-ours")
    log(f"  ours: {ours:.3f} s")
    check_imported("bench-ours", students)

    log("baseline: one enrollment_invite per row ...")
    baseline = timed_import(import_baseline, content, "bench-baseline")
    log(f"  baseline: {baseline:.3f} s")
    check_imported("bench-baseline", students)
    log("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return {"ours_s": ours, "baseline_s": baseline, "ratio": baseline / ours}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=10_000, help="rows in the file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if not 1 <= args.students <= 20_000:
        parser.error("--students must be between 1 and 20000 (the import's limit)")

    return run_benchmark("import", lambda: measure(args.students), keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
