"""The institution's retention rules: one row (pk 1), made on its first save. A change applies
from the next job run on."""

from django.db import transaction

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from privacy.models import DataProtectionSettings

MANAGE_DATA_PROTECTION = "privacy.manage_data_protection"
SETTINGS_FIELDS = (
    "archive_after_years",
    "anonymise_after_years",
    "legal_retention_years",
    "backup_retention_years",
    "account_purge_days",
    "small_cell_threshold",
    "report_expiry_days",
)


def data_protection_settings_update(*, actor: User | None, **values: int) -> DataProtectionSettings:
    """Save the settings (validated by the model's own checks: a ValidationError names each
    wrong field) and audit what changed."""
    permission_check(
        actor=actor,
        action="privacy.data_protection_settings_update",
        permission=MANAGE_DATA_PROTECTION,
    )
    unknown = values.keys() - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a data protection setting: {', '.join(sorted(unknown))}.")
    with transaction.atomic(durable=True):
        row = DataProtectionSettings.objects.select_for_update().filter(pk=1).first()
        created = row is None
        current = row or DataProtectionSettings(pk=1)
        old, new = {}, {}
        for name, value in values.items():
            if getattr(current, name) != value or created:
                old[name], new[name] = getattr(current, name), value
            setattr(current, name, value)
        current.full_clean()
        current.save()
        if new:
            audit_record(
                action="data_protection_settings.updated",
                entity=current,
                actor=actor,
                old_values={} if created else old,
                new_values=new,
            )
    return current
