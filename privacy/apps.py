from django.apps import AppConfig


def account_purge_days_setting(sender, **kwargs) -> int:
    """The institution's wait before a deleted account is anonymised (0: not set yet, the
    default holds)."""
    from privacy.models import DataProtectionSettings

    days = (
        DataProtectionSettings.objects.filter(pk=1)
        .values_list("account_purge_days", flat=True)
        .first()
    )
    return days or 0


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Data protection"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.signals import account_purge_days_asked, account_purged
        from privacy.access import tasks  # noqa: F401 (the worker registers its task)
        from privacy.access.services import access_request_files_of_purged_account

        account_purge_days_asked.connect(
            account_purge_days_setting, dispatch_uid="privacy.account_purge_days"
        )
        account_purged.connect(
            access_request_files_of_purged_account,
            dispatch_uid="privacy.access_request_files_of_purged_account",
        )
