from django.apps import AppConfig


class SponsorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sponsors"

    def ready(self) -> None:
        from cohorts.signals import (
            cohort_activated,
            cohort_completed,
            cohort_completion_blockers_asked,
        )
        from sponsors import receivers

        cohort_activated.connect(receivers.cohort_activated_notify_sponsor)
        cohort_completed.connect(receivers.cohort_completed_notify_sponsor)
        cohort_completion_blockers_asked.connect(receivers.cohort_completion_blockers_sponsor)
