from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name

from tenants.models import Domain, Institution
from tenants.services import schema_pool_drain, schema_pool_refill, template_schema_migrate


class Command(BaseCommand):
    help = (
        "Migrate everything in order: the public schema, the platform's own site row, the "
        "template schema new institutions are cloned from, every institution; then refill the "
        "pool of ready schemas."
    )

    def handle(self, *args, **options) -> None:
        verbosity = options["verbosity"]
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        platform, _ = Institution.objects.get_or_create(
            schema_name=get_public_schema_name(),
            defaults={"name": "Cohortly", "code": get_public_schema_name()},
        )
        Domain.objects.get_or_create(
            domain=settings.PLATFORM_DOMAIN, defaults={"tenant": platform, "is_primary": True}
        )
        template_schema_migrate()
        # Pooled schemas were cloned from the template before these migrations: make new ones.
        schema_pool_drain()
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
        schema_pool_refill()
        self.stdout.write(self.style.SUCCESS("Platform, template and institutions migrated."))
