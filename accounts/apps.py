from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _catalogue_sync(sender, **kwargs) -> None:
    from accounts.roles import catalogue_sync

    catalogue_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and access"

    def ready(self) -> None:
        # After every migrate, in each schema: new permissions and system roles arrive.
        post_migrate.connect(_catalogue_sync, sender=self)
