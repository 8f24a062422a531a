import datetime

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context

from audit.selectors import audit_chain_first_break
from tenants.models import Institution


class Command(BaseCommand):
    help = (
        "Check the audit hash chain of the platform and of every institution, each once, and "
        "report the first broken link."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--schema", help="Check only this schema.")

    def handle(self, *args, schema: str | None = None, **options) -> None:
        # The platform's own row in Institution names the public schema too: list it once.
        institutions = Institution.objects.institutions().order_by("schema_name")
        schemas = (
            [schema]
            if schema
            else [get_public_schema_name(), *institutions.values_list("schema_name", flat=True)]
        )
        broken = []
        for schema_name in schemas:
            with schema_context(schema_name):
                event = audit_chain_first_break()
            if event is None:
                self.stdout.write(f"{schema_name}: audit chain intact")
            else:
                broken.append(schema_name)
                self.stderr.write(
                    f"{schema_name}: audit chain broken at event {event.pk} "
                    f"({event.action} {event.entity_type}:{event.entity_id}, "
                    f"{event.created_at.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC)"
                )
        if broken:
            raise CommandError(f"Audit chain broken in: {', '.join(broken)}")
