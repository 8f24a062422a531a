"""The platform's directory behind "find my institution": which institutions have an account
for a hashed e-mail address. The accounts and enrolment services keep it up to date inside
their own transactions (these writes are composable and audited by their callers); kept apart
from tenants.services so that they need not import provisioning."""

import hashlib

from tenants.models import Institution, InstitutionDirectoryEntry


def email_directory_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def directory_entry_add(*, email: str, institution: Institution) -> None:
    InstitutionDirectoryEntry.objects.get_or_create(
        email_hash=email_directory_hash(email), institution=institution
    )


def directory_entry_remove(*, email: str, institution: Institution) -> None:
    InstitutionDirectoryEntry.objects.filter(
        email_hash=email_directory_hash(email), institution=institution
    ).delete()
