from django.apps import AppConfig


class SponsorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sponsors"

    def ready(self) -> None:
        from signing import callbacks
        from sponsors.selectors import cohort_summary_for_signing
        from sponsors.services import sponsor_agreement_declined, sponsor_agreement_signed

        callbacks.register("sponsors.agreement_signed", sponsor_agreement_signed)
        callbacks.register("sponsors.agreement_declined", sponsor_agreement_declined)
        callbacks.register_subject_summary("cohorts.cohort", cohort_summary_for_signing)
