from django.apps import AppConfig


class LearnersConfig(AppConfig):
    name = "learners"
    verbose_name = "Learners"

    def ready(self) -> None:
        from learners import receivers
        from tenants.signals import institution_provisioned

        institution_provisioned.connect(receivers.institution_provisioned_make_keys)
