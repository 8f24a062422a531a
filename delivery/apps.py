from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery"

    def ready(self) -> None:
        # Results: a cohort completes once each learner's programme outcome is recorded.
        from cohorts.signals import cohort_completion_blockers_asked
        from delivery.selectors.outcomes import cohort_completion_blockers_outcomes

        cohort_completion_blockers_asked.connect(cohort_completion_blockers_outcomes)

        # The start page: registers to take, runs to moderate.
        from accounts.home import home_panel_register
        from delivery.home import delivery_home_panel

        home_panel_register(
            "delivery",
            template="delivery/_home_panel.html",
            context=delivery_home_panel,
            order=25,
        )

        # Runs: a learner withdrawn from the cohort leaves the runs whose results are open.
        from delivery.services.runs import enrollment_withdrawn_drop_runs
        from enrolments.signals import enrollment_withdrawn

        enrollment_withdrawn.connect(enrollment_withdrawn_drop_runs)
