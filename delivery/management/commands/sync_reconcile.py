"""Reconcile an institution's delivery with the training gateway from the shell.

manage.py sync_reconcile --institution CODE [--cohort ID]

Prints, per cohort and run, each record that is not matched (missing at the gateway, different
field by field, only at the gateway, not sent and why) and a summary of the outcomes. Exits 0
when everything matched, 1 when something differs or the gateway could not be read, 2 on bad
input (unknown institution or cohort, no active connector)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from cohorts.models import Cohort
from delivery.reconciliation import CohortReconciliation, cohort_reconcile
from integrations.reconciliation import Outcome
from integrations.services import connector_load
from tenants.models import Institution


class Command(BaseCommand):
    help = "Compare a cohort's delivery (or every cohort's) with what the training gateway holds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--institution", required=True, help="The institution's code.")
        parser.add_argument("--cohort", type=int, help="One cohort's id (default: every cohort).")

    def handle(self, *args: Any, institution: str, cohort: int | None, **options: Any) -> None:
        found = Institution.objects.filter(code=institution).first()
        if found is None:
            raise CommandError(f"No institution with the code {institution!r}.", returncode=2)
        with tenant_context(found):
            connector = connector_load()
            if connector is None:
                raise CommandError(f"{found.code} has no active gateway connector.", returncode=2)
            cohorts = Cohort.objects.filter(runs__isnull=False).distinct().order_by("pk")
            if cohort is not None:
                cohorts = Cohort.objects.filter(pk=cohort)
                if not cohorts.exists():
                    raise CommandError(f"{found.code} has no cohort {cohort}.", returncode=2)
            try:
                reports = [cohort_reconcile(item, connector=connector) for item in cohorts]
            finally:
                connector.close()
        for report in reports:
            self._print(report)
        totals = dict.fromkeys(Outcome.values, 0)
        for report in reports:
            for outcome, count in report.counts.items():
                totals[outcome] += count
        self.stdout.write(
            "Total: "
            + ", ".join(f"{Outcome(value).label.lower()} {n}" for value, n in totals.items())
        )
        if not all(report.all_matched for report in reports):
            raise CommandError("The gateway does not hold what Cohortly would send.", returncode=1)

    def _print(self, report: CohortReconciliation) -> None:
        self.stdout.write(f"Cohort {report.cohort.pk} {report.cohort.name}")
        for run in report.runs:
            self.stdout.write(f"  Run {run.run.course_ref} {run.run.title} (run-{run.run.pk})")
            if run.unreadable:
                self.stdout.write(f"    {run.unreadable}")
            for item in run.items:
                if item.outcome == Outcome.MATCHED:
                    continue
                detail = f" ({item.reason})" if item.reason else ""
                self.stdout.write(
                    f"    {item.outcome_label}: {item.label} [{item.reference}]{detail}"
                )
                for difference in item.differences:
                    self.stdout.write(
                        f"      {difference.field}: ours {difference.ours!r}, "
                        f"theirs {difference.theirs!r}"
                    )
        summary = ", ".join(
            f"{Outcome(value).label.lower()} {count}" for value, count in report.counts.items()
        )
        self.stdout.write(f"  {summary}")
