from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = "Cohorts"

    def ready(self) -> None:
        from cohorts.gateway import build_cohort_payload
        from cohorts.services import cohort_main_agreement_signed
        from integrations import payloads
        from signing import callbacks

        callbacks.register("cohorts.main_agreement_signed", cohort_main_agreement_signed)
        payloads.register("cohorts.cohort", build_cohort_payload)
