from django.apps import AppConfig


class EnrolmentsConfig(AppConfig):
    name = "enrolments"
    verbose_name = "Enrolments"

    def ready(self) -> None:
        from enrolments.gateway import build_enrolment_payload
        from integrations import payloads

        payloads.register("enrolments.cohortenrollment", build_enrolment_payload)
