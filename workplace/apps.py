from django.apps import AppConfig


class WorkplaceConfig(AppConfig):
    name = "workplace"
    verbose_name = "Workplace learning"

    def ready(self) -> None:
        # The start page's panel: logbook weeks to confirm, portfolios to assess, samples to
        # moderate, and the learner's own logbook and portfolio.
        from accounts.home import home_panel_register
        from workplace.selectors.home import workplace_home_panel

        home_panel_register(
            "workplace",
            template="workplace/_home_panel.html",
            context=workplace_home_panel,
            order=30,
        )
