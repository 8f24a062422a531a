from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = "Finance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Commissions: a placement confirmed or an enrolment started accrues the commission of
        # the partner who brought the learner.
        from enrolments.signals import enrollment_started
        from finance import receivers
        from placements.signals import placement_confirmed

        placement_confirmed.connect(
            receivers.placement_confirmed_accrue, dispatch_uid="finance.commission_on_placement"
        )
        enrollment_started.connect(
            receivers.enrollment_started_accrue, dispatch_uid="finance.commission_on_enrolment"
        )

        # The start page's panel for finance users: what is owed and overdue, and what waits.
        from accounts.home import home_panel_register
        from finance.selectors.home import finance_home_panel

        home_panel_register(
            "finance", template="finance/_home_panel.html", context=finance_home_panel, order=40
        )
