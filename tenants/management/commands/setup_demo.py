import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from config.demo import SUPER_ADMIN_EMAIL, demo_build
from tenants.models import Institution
from tenants.services import institution_provision
from tenants.sites import institution_url, site_url

DEMO_CODE = "demo"
DEMO_OPERATOR = "operator@cohortly.example"


class Command(BaseCommand):
    help = (
        "Development only: a demo institution with a sponsor, cohorts in every state, students "
        "at every step, a person for each role and the programme's delivery (runs, sessions, "
        "registers, results, certificates) (config.demo), and a platform operator. Run it again "
        "to finish an interrupted run; it adds nothing twice."
    )

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
                admin_email=SUPER_ADMIN_EMAIL,
                admin_name="Demo Admin",
            )
        demo = demo_build(institution, password=password)
        with schema_context(get_public_schema_name()):
            operator = User.objects.filter(email=DEMO_OPERATOR).first()
            if operator is None:
                User.objects.create_superuser(DEMO_OPERATOR, password)
            elif not operator.check_password(password):
                operator.set_password(password)
                operator.save(update_fields=["password"])

        width = max(len(role) for role, _email in demo.credentials())
        lines = [f"\n  Demo institution: {institution_url(institution)}"]
        lines += [
            f"    {role + ':':<{width + 1}}  {email}  {password}"
            for role, email in demo.credentials()
        ]
        lines += [
            "    (every other demo person too, e.g. each student who has signed up)",
            f"  Platform operator: {site_url(settings.PLATFORM_DOMAIN, '/operator/')}",
            f"    {'Operator:':<{width + 1}}  {DEMO_OPERATOR}  {password}",
            "  E-mails sent in development land in "
            f"{getattr(settings, 'EMAIL_FILE_PATH', 'the configured SMTP server')}\n",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
