from django.apps import AppConfig


class LearnersConfig(AppConfig):
    name = "learners"
    verbose_name = "Learners"

    def ready(self) -> None:
        from learners import receivers
        from tenants.signals import institution_provisioned

        institution_provisioned.connect(receivers.institution_provisioned_make_keys)

        from integrations import payloads
        from learners.consents import ALWAYS_REQUIRED, REQUIRED_CONSENTS
        from learners.gateway import NATIONAL_ID, national_id_resolve
        from learners.models import ConsentKind
        from tenants import options

        payloads.register_resolver(NATIONAL_ID, national_id_resolve)
        options.register(
            options.ChoicesSetting(
                key=REQUIRED_CONSENTS,
                section="Student consents",
                label="Besides processing their personal information, ask every student to "
                "consent to",
                help_text="Students are asked in the portal before anything else, and can "
                "withdraw a consent from their profile. Consent to processing personal "
                "information is always asked. Enrolments are reported to the training gateway "
                "only for students who consent to sharing with the funding body.",
                choices=lambda: [
                    (
                        ConsentKind.SPONSOR_SHARING,
                        "sharing their contact details with their sponsor",
                    ),
                    (
                        ConsentKind.FUNDING_BODY_SHARING,
                        "sharing their details with the funding body (SETA) and its training "
                        "gateway",
                    ),
                ],
                always=ALWAYS_REQUIRED,
            )
        )
