import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.models import Role, SystemRole, User
from tenants.models import Institution
from tenants.services import institution_provision
from tenants.sites import institution_url, site_url

DEMO_CODE = "demo"
DEMO_ADMIN = "admin@demo.example"
DEMO_OPERATOR = "operator@cohortly.example"


class Command(BaseCommand):
    help = "Development only: a demo institution with a signed-up super admin, and an operator."

    def handle(self, *args, **options) -> None:
        credentials_file = settings.DATA_DIR / "demo-credentials.txt"
        if credentials_file.exists():
            password = credentials_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
            credentials_file.parent.mkdir(parents=True, exist_ok=True)
            credentials_file.write_text(password)

        institution = Institution.objects.filter(code=DEMO_CODE).first()
        if institution is None:
            institution = institution_provision(
                name="Demo Training Institute",
                code=DEMO_CODE,
                admin_email=DEMO_ADMIN,
                admin_name="Demo Admin",
            )
        with tenant_context(institution), transaction.atomic():
            admin = User.objects.get(email=DEMO_ADMIN)
            admin.roles.add(Role.objects.get(key=SystemRole.SUPER_ADMIN))
            admin.set_password(password)
            admin.save()
        with schema_context(get_public_schema_name()):
            operator, _ = User.objects.get_or_create(
                email=DEMO_OPERATOR, defaults={"is_staff": True, "is_superuser": True}
            )
            operator.set_password(password)
            operator.save()

        mail_location = getattr(settings, "EMAIL_FILE_PATH", "the configured SMTP server")
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Demo institution:  {institution_url(institution)}"
                f"\n  Sign in as {DEMO_ADMIN} with password {password}"
                f"\n  Platform operator: {site_url(settings.PLATFORM_DOMAIN, '/operator/')}"
                f" as {DEMO_OPERATOR} (same password)"
                f"\n  E-mails sent in development land in {mail_location}\n"
            )
        )
