from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = "Document review"

    def ready(self) -> None:
        from accounts.home import home_panel_register
        from cohorts.signals import cohort_work_asked
        from verification import receivers
        from verification.home import review_home_panel

        cohort_work_asked.connect(receivers.cohort_work_documents)
        home_panel_register(
            "verification",
            template="verification/_home_queue.html",
            context=review_home_panel,
            order=20,
        )
