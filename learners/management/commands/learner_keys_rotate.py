from typing import Any

from learners.management.institutions import PerInstitutionCommand
from learners.services import learner_keys_rotate
from tenants.models import Institution


class Command(PerInstitutionCommand):
    help = (
        "Rotate the keys of learners' ID numbers: wrap every institution's data keys again "
        "under the first of LEARNER_MASTER_KEYS (after which the others may be withdrawn) and "
        "add a new encryption key version; older versions keep decrypting. Then run "
        "learner_ids_reencrypt to move every number to the new version."
    )

    def institution_handle(self, institution: Institution, **options: Any) -> None:
        rotation = learner_keys_rotate()
        self.stdout.write(
            f"{institution.code}: {rotation.rewrapped} key(s) re-wrapped under master key "
            f"{rotation.master_fingerprint}; encryption key version "
            f"{rotation.encryption_version} added"
        )
