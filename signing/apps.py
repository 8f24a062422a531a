from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "signing"
    verbose_name = "Agreements"

    def ready(self) -> None:
        from accounts.signals import account_deleted
        from signing.services.links import links_revoke_of_deleted_account

        account_deleted.connect(
            links_revoke_of_deleted_account, dispatch_uid="signing.links_revoke_of_deleted_account"
        )
