import sys
from argparse import BooleanOptionalAction
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from accounts.models import User
from cohorts.imports.reading import SpreadsheetError, spreadsheet_read
from cohorts.imports.selectors import enrollments_import_plan
from cohorts.imports.validation import rows_check
from cohorts.imports.writing import ImportResult, enrolling_check, enrollments_import
from cohorts.models import Cohort
from tenants.models import Institution


def rows(count: int, one: str = "", many: str = "") -> str:
    """ "1 row", "2 rows"; with words after the noun for one and for many."""
    words = one if count == 1 else many
    return f"{count} row{'' if count == 1 else 's'}" + (f" {words}" if words else "")


class ProgressBar:
    """One line on the terminal, redrawn in place: `label [#####-----]  50%  5,000/10,000`
    (without the counts when `counts` is false: the import reports steps, not rows)."""

    WIDTH = 30

    def __init__(self, stream, label: str, total: int, enabled: bool, counts: bool = True) -> None:
        self.stream, self.label, self.total, self.enabled = stream, label, max(total, 1), enabled
        self.counts = counts
        self.drawn = -1

    def update(self, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        self.total = max(total or self.total, done, 1)
        percent = done * 100 // self.total
        if percent == self.drawn:
            return
        self.drawn = percent
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        counts = f"  {done:,}/{self.total:,}" if self.counts else ""
        self.stream.write(f"\r{self.label:<16} [{bar}] {percent:3d}%{counts}", ending="")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.drawn >= 0:
            self.stream.write("")


class Command(BaseCommand):
    help = (
        "Import students from a CSV or XLSX file into a cohort, as the upload page does: the "
        "same checks, then the good rows are enrolled and the rows with problems are listed "
        "(fix them and run the command again: students already in the cohort are skipped). "
        "With --strict, a single row with a problem imports nothing. Each new enrolment is "
        "e-mailed an invitation. Exit status 1 when nothing could be imported because of a "
        "problem."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--institution", required=True, help="The institution's code.")
        parser.add_argument("--cohort", required=True, type=int, help="The cohort's id.")
        parser.add_argument("file", help="A .csv or .xlsx file with the template's columns.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="All or nothing: import nothing if any row has a problem.",
        )
        parser.add_argument(
            "--actor",
            default="",
            help="E-mail of the admin to record as the importer (default: the system).",
        )
        parser.add_argument(
            "--progress",
            action=BooleanOptionalAction,
            default=None,
            help="Draw progress bars (default: when the output is a terminal).",
        )

    def handle(self, *args, **options) -> None:
        institution = Institution.objects.filter(code=options["institution"]).first()
        if institution is None:
            raise CommandError(f"No institution has the code {options['institution']!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        progress = options["progress"]
        if progress is None:
            progress = sys.stderr.isatty()
        with tenant_context(institution):
            self._import(institution, path, options, progress)

    def _import(self, institution: Institution, path: Path, options: dict, progress: bool) -> None:
        cohort = Cohort.objects.filter(pk=options["cohort"]).first()
        if cohort is None:
            raise CommandError(f"{institution.name} has no cohort with id {options['cohort']}.")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(email=options["actor"].strip().lower()).first()
            if actor is None or not actor.may("enrolments.manage_enrolments"):
                raise CommandError(
                    f"{options['actor']} is not an admin of {institution.name}: "
                    "they may not enrol students there."
                )

        try:
            enrolling_check(cohort)  # before reading the file, as the upload page does
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error

        try:
            spreadsheet = spreadsheet_read(path.read_bytes())
            bar = ProgressBar(self.stderr, "Checking rows", spreadsheet.estimated_rows, progress)
            report = rows_check(cohort=cohort, rows=spreadsheet.rows, on_row=bar.update)
            bar.update(report.total, report.total)
            bar.finish()
        except SpreadsheetError as error:
            raise CommandError(" ".join(error.messages)) from error

        for row in report.invalid:
            who = row["email"] or row["full_name"] or "no name or e-mail"
            if row["already_in_cohort"]:
                self.stdout.write(f"row {row['line']} ({who}): already in the cohort, skipped")
            else:
                self.stderr.write(f"row {row['line']} ({who}): {' '.join(row['messages'])}")
        bad = len(report.bad)
        self.stdout.write(
            f"{rows(report.total)} checked in {path.name}: {len(report.valid)} to import into "
            f"{cohort.name} ({institution.name}), {bad} with problems, "
            f"{len(report.invalid) - bad} already in the cohort."
        )
        if bad and options["strict"]:
            raise CommandError(
                f"{bad} of {rows(report.total)} cannot be imported (listed above); with --strict "
                "nothing was imported. Fix them and run the command again."
            )
        if not report.valid:
            if bad:
                raise CommandError(
                    "No row of this file can be imported (the problems are listed above); "
                    "nothing was imported. Fix them and run the command again."
                )
            self.stdout.write("Nothing to import.")
            return
        left_out = ""
        if bad:
            left_out = (
                f"{rows(bad, 'with a problem is', 'with problems are')} not imported. Fix them "
                "in your file and import it again: students already imported are skipped, so "
                "nobody is added twice."
            )

        if options["dry_run"]:
            plan = enrollments_import_plan(cohort=cohort, rows=report.valid)
            self.stdout.write(self._summary(plan, prefix="Dry run: would enrol"))
            if left_out:
                self.stdout.write(f"Dry run: {left_out}")
            self.stdout.write("Dry run: nothing was written.")
            return
        bar = ProgressBar(self.stderr, "Importing", 100, progress, counts=False)
        try:
            result = enrollments_import(
                cohort=cohort,
                actor=actor,
                rows=report.valid,
                reference=f"command: {path.name}",
                progress=bar.update,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        finally:
            bar.finish()
        self.stdout.write(self.style.SUCCESS(self._summary(result, prefix="Enrolled")))
        if left_out:
            self.stderr.write(self.style.WARNING(left_out))

    @staticmethod
    def _summary(result: ImportResult, *, prefix: str) -> str:
        return (
            f"{prefix} {result.enrolled} students: {result.new_accounts} new accounts, "
            f"{result.existing_accounts} existing accounts; {result.new_learners} new learners, "
            f"{result.existing_learners} existing learners; {result.invitations} invitation "
            f"e-mails, {result.notices} enrolment notices; {result.already_enrolled} already in "
            "the cohort."
        )
