from django.core.management.base import BaseCommand, CommandError

from tenants.models import Institution
from tenants.services import institution_reactivate, institution_suspend


class Command(BaseCommand):
    help = "Suspend an institution: its pages show a notice and nobody can sign in."
    service = staticmethod(institution_suspend)
    done = "suspended"
    unchanged = "already suspended"

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", help="The institution's code (its subdomain).")

    def handle(self, *args, code: str, **options) -> None:
        institution = Institution.objects.institutions().filter(code=code.lower()).first()
        if institution is None:
            raise CommandError(f"No institution has the code {code!r}.")
        changed = self.service(institution=institution)
        outcome = self.done if changed else self.unchanged
        self.stdout.write(self.style.SUCCESS(f"{institution.name} is {outcome}."))


class ReactivateCommand(Command):
    help = "Reactivate a suspended institution."
    service = staticmethod(institution_reactivate)
    done = "active again"
    unchanged = "already active"
