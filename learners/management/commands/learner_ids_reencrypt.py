from typing import Any

from django.core.management.base import CommandParser

from learners.management.institutions import PerInstitutionCommand
from learners.services import learner_ids_reencrypt
from tenants.models import Institution


class Command(PerInstitutionCommand):
    help = (
        "Encrypt every learner's ID number again under its institution's current encryption "
        "key version (after learner_keys_rotate), in batches, each its own transaction: it can "
        "be interrupted and run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--batch-size", type=int, default=1000, help="Learners per batch.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.reencrypted = self.already_current = 0
        super().handle(*args, **options)
        self.stdout.write(
            f"total: {self.reencrypted} re-encrypted, {self.already_current} already current"
        )

    def institution_handle(self, institution: Institution, **options: Any) -> None:
        result = learner_ids_reencrypt(batch_size=options["batch_size"])
        self.reencrypted += result.reencrypted
        self.already_current += result.already_current
        self.stdout.write(
            f"{institution.code}: {result.reencrypted} re-encrypted, "
            f"{result.already_current} already current"
        )
