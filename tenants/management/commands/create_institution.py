from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services import institution_provision
from tenants.sites import institution_url


class Command(BaseCommand):
    help = "Provision an institution: schema, web address and an invited super admin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--code", required=True, help="The subdomain, e.g. acme.")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", default="")

    def handle(
        self, *args, name: str, code: str, admin_email: str, admin_name: str, **options
    ) -> None:
        try:
            institution = institution_provision(
                name=name, code=code, admin_email=admin_email, admin_name=admin_name
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {institution.name} at {institution_url(institution)}; "
                f"invitation e-mailed to {admin_email}."
            )
        )
