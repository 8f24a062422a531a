from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User


class Command(BaseCommand):
    help = "Create (or reset the password of) a platform operator on the platform site."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args, email: str, password: str, **options) -> None:
        if len(password) < 10:
            raise CommandError("Use a password of at least 10 characters.")
        with schema_context(get_public_schema_name()):
            user, created = User.objects.get_or_create(
                email=email.lower(), defaults={"is_staff": True, "is_superuser": True}
            )
            user.set_password(password)
            user.save()
        self.stdout.write(
            self.style.SUCCESS(f"Operator {user.email} {'created' if created else 'updated'}.")
        )
