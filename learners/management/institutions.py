"""What the key commands share: they work in every institution's schema in turn, or in one."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from learners.keys import KeyUnavailable
from tenants.models import Institution


class PerInstitutionCommand(BaseCommand):
    """Runs `institution_handle` in each institution's schema (or only --institution CODE's).
    An institution whose keys cannot be opened is reported and the others still run; the exit
    status then says that some failed."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--institution", metavar="CODE", help="Only this institution (default: every one)."
        )

    def handle(self, *args: Any, institution: str | None = None, **options: Any) -> None:
        institutions = Institution.objects.institutions().order_by("code")
        if institution:
            institutions = institutions.filter(code=institution.lower())
            if not institutions.exists():
                raise CommandError(f"No institution has the code {institution!r}.")
        failed = []
        for each in institutions:
            with tenant_context(each):
                try:
                    self.institution_handle(each, **options)
                except KeyUnavailable as error:
                    failed.append(each.code)
                    self.stderr.write(f"{each.code}: {error}")
        if failed:
            raise CommandError(f"Not done in: {', '.join(failed)}")

    def institution_handle(self, institution: Institution, **options: Any) -> None:
        raise NotImplementedError
