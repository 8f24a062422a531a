from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = "Cohorts"

    def ready(self) -> None:
        from cohorts.gateway import build_cohort_payload
        from integrations import payloads

        payloads.register("cohorts.cohort", build_cohort_payload)
