from django.apps import AppConfig


class SponsorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sponsors"

    def ready(self) -> None:
        from cohorts.signals import (
            cohort_activated,
            cohort_completed,
            cohort_completion_blockers_asked,
            cohort_work_asked,
        )
        from signing import callbacks
        from sponsors import receivers
        from sponsors.selectors import cohort_summary_for_signing
        from sponsors.services import sponsor_agreement_declined, sponsor_agreement_signed

        cohort_activated.connect(receivers.cohort_activated_notify_sponsor)
        cohort_completed.connect(receivers.cohort_completed_notify_sponsor)
        cohort_completion_blockers_asked.connect(receivers.cohort_completion_blockers_sponsor)
        cohort_work_asked.connect(receivers.cohort_work_sponsor)
        callbacks.register("sponsors.agreement_signed", sponsor_agreement_signed)
        callbacks.register("sponsors.agreement_declined", sponsor_agreement_declined)
        callbacks.register_subject_summary("cohorts.cohort", cohort_summary_for_signing)
