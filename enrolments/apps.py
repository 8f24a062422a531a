from django.apps import AppConfig


class EnrolmentsConfig(AppConfig):
    name = "enrolments"
    verbose_name = "Enrolments"

    def ready(self) -> None:
        from enrolments.services import (
            enrollment_agreement_declined,
            enrollment_agreement_signed,
        )
        from signing import callbacks

        callbacks.register("enrolments.agreement_signed", enrollment_agreement_signed)
        callbacks.register("enrolments.agreement_declined", enrollment_agreement_declined)
