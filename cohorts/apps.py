from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = "Cohorts"

    def ready(self) -> None:
        from cohorts.services import cohort_main_agreement_signed
        from signing import callbacks

        callbacks.register("cohorts.main_agreement_signed", cohort_main_agreement_signed)
