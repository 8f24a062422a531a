"""Run an institution's data protection jobs from the shell.

manage.py data_protection_jobs --institution CODE [--job KIND] [--dry-run]

Runs every job (or the one named) in the institution's schema and time zone, as the daily run
does, and prints each run with what it did (or, with --dry-run, would do). Exits 1 when a job
failed, 2 on bad input (unknown institution or job)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from privacy.models import JobKind, JobRun
from privacy.services.jobs import JOBS, job_run
from tenants.models import Institution
from tenants.zones import institution_time


class Command(BaseCommand):
    help = "Archive, anonymise and retire an institution's data by its retention rules."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--institution", required=True, help="The institution's code.")
        parser.add_argument(
            "--job", choices=list(JOBS), help="One job (default: every job, in order)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be done; change nothing."
        )

    def handle(
        self, *args: Any, institution: str, job: str | None, dry_run: bool, **options: Any
    ) -> None:
        found = Institution.objects.filter(code=institution).first()
        if found is None:
            raise CommandError(f"No institution with the code {institution!r}.", returncode=2)
        with tenant_context(found), institution_time(found):
            kinds = [job] if job else list(JOBS)
            runs = [job_run(actor=None, kind=kind, dry_run=dry_run) for kind in kinds]
        for run in runs:
            self._print(run)
        if any(run.error_message for run in runs):
            raise CommandError(
                "A data protection job failed; nothing of it was done.", returncode=1
            )

    def _print(self, run: JobRun) -> None:
        self.stdout.write(f"{JobKind(run.kind).label} ({'dry run' if run.dry_run else 'run'}):")
        if run.error_message:
            self.stdout.write(f"  failed: {run.error_message}")
            return
        for item in run.items:
            self.stdout.write(f"  {item['action']} {item['label']}")
        verb = "would be" if run.dry_run else "were"
        self.stdout.write(f"  {run.item_count} item(s) {verb} changed.")
