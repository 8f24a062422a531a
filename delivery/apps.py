from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery"

    def ready(self) -> None:
        # Results: a cohort completes once each learner's programme outcome is recorded.
        from cohorts.signals import cohort_completion_blockers_asked
        from delivery.selectors.outcomes import cohort_completion_blockers_outcomes

        cohort_completion_blockers_asked.connect(cohort_completion_blockers_outcomes)

        # Runs: a learner withdrawn from the cohort leaves the runs whose results are open.
        from delivery.services.runs import enrollment_withdrawn_drop_runs
        from enrolments.signals import enrollment_withdrawn

        enrollment_withdrawn.connect(enrollment_withdrawn_drop_runs)
