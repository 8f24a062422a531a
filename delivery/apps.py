from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery"

    def ready(self) -> None:
        # Results: a cohort completes once each learner's programme outcome is recorded.
        from cohorts.signals import cohort_completion_blockers_asked
        from delivery.selectors.outcomes import cohort_completion_blockers_outcomes

        cohort_completion_blockers_asked.connect(cohort_completion_blockers_outcomes)
