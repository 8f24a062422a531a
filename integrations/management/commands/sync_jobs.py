"""Operators' view of sync jobs across institutions.

manage.py sync_jobs list [--schema acme] [--status dead_letter]
manage.py sync_jobs retry JOB_ID [JOB_ID ...] --schema acme
manage.py sync_jobs requeue-dead [--schema acme]
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from integrations.models import SyncJob
from integrations.redrive import sync_jobs_redrive
from integrations.selectors import sync_job_list, sync_job_status_counts
from integrations.services import sync_job_retry
from tenants.selectors import schema_names_for_background_work


class Command(BaseCommand):
    help = "List sync jobs, retry some, or re-queue every dead-letter job."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["list", "retry", "requeue-dead"])
        parser.add_argument("job_ids", nargs="*", type=int)
        parser.add_argument("--schema", help="One institution's schema (default: all active).")
        parser.add_argument("--status", default="", help="list: only jobs with this status.")
        parser.add_argument("--limit", type=int, default=20, help="list: jobs shown per schema.")

    def handle(self, *args, action: str, job_ids: list[int], schema: str | None, **options):
        schemas = [schema] if schema else schema_names_for_background_work(include_public=False)
        if action == "retry" and (not schema or not job_ids):
            raise CommandError("retry needs --schema and at least one job id.")
        for schema_name in schemas:
            with schema_context(schema_name):
                if action == "list":
                    self._list(schema_name, options["status"], options["limit"])
                elif action == "retry":
                    self._retry(job_ids)
                else:
                    count = sync_jobs_redrive(actor=None, jobs=SyncJob.objects.all())
                    self.stdout.write(f"{schema_name}: {count} dead-letter job(s) queued again")

    def _list(self, schema_name: str, status: str, limit: int) -> None:
        counts = sync_job_status_counts()
        summary = ", ".join(f"{name} {count}" for name, count in counts.items())
        self.stdout.write(f"{schema_name}: {summary}")
        for job in sync_job_list(status=status)[:limit]:
            self.stdout.write(
                f"  #{job.pk} {job.status:<11} {job.job_type:<18} {job.entity_type}#{job.entity_id}"
                f" attempts={job.attempts} ref={job.external_reference or '-'}"
                + (f" error={job.last_error[:80]!r}" if job.last_error else "")
            )

    def _retry(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            job = SyncJob.objects.filter(pk=job_id).first()
            if job is None:
                raise CommandError(f"No sync job {job_id} here.")
            try:
                sync_job_retry(job=job, actor=None)
            except ValidationError as error:
                raise CommandError(f"#{job_id}: {' '.join(error.messages)}") from error
            self.stdout.write(f"#{job_id} queued again")
