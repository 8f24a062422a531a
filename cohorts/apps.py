from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = "Cohorts"

    def ready(self) -> None:
        from accounts.home import home_panel_register
        from accounts.permissions import scope_register
        from cohorts.gateway import build_cohort_payload
        from cohorts.models import Cohort
        from cohorts.selectors import cohort_home_panel
        from cohorts.services import cohort_main_agreement_signed
        from integrations import payloads
        from signing import callbacks

        callbacks.register("cohorts.main_agreement_signed", cohort_main_agreement_signed)
        payloads.register("cohorts.cohort", build_cohort_payload)
        scope_register(
            Cohort, everywhere="cohorts.access_all_cohorts", grant="cohorts.review_cohort"
        )
        home_panel_register(
            "cohorts",
            template="cohorts/_home_work.html",
            context=cohort_home_panel,
            order=10,
            wide=True,
        )
