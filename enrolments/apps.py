from django.apps import AppConfig


class EnrolmentsConfig(AppConfig):
    name = "enrolments"
    verbose_name = "Enrolments"

    def ready(self) -> None:
        from accounts.signals import invitation_refusals_asked
        from cohorts.signals import (
            cohort_activated,
            cohort_agreements_ended,
            cohort_completion_blockers_asked,
            cohort_work_asked,
        )
        from enrolments import receivers, supporting
        from enrolments.agreements import (
            enrollment_agreement_declined,
            enrollment_agreement_signed,
        )
        from enrolments.gateway import build_enrolment_payload, enrolment_send_check
        from integrations import payloads
        from learners.signals import (
            learner_consent_changed,
            learner_merged,
            learner_national_id_changed,
            learner_verified_facts_changed,
        )
        from signing import callbacks

        cohort_activated.connect(receivers.cohort_activated_send_agreements)
        cohort_agreements_ended.connect(receivers.cohort_agreements_ended_revoke)
        cohort_completion_blockers_asked.connect(receivers.cohort_completion_blockers_enrollments)
        cohort_work_asked.connect(receivers.cohort_work_enrollments)
        invitation_refusals_asked.connect(receivers.invitation_refused_closed_cohorts)
        callbacks.register("enrolments.agreement_signed", enrollment_agreement_signed)
        callbacks.register("enrolments.agreement_declined", enrollment_agreement_declined)
        cohort_agreements_ended.connect(supporting.supporting_agreements_revoke_on_cohort_end)
        callbacks.register(supporting.ON_COMPLETE, supporting.supporting_agreement_signed)
        callbacks.register(supporting.ON_DECLINE, supporting.supporting_agreement_declined)
        callbacks.register_return("enrolments.supportingagreement", supporting.signing_return)
        payloads.register("enrolments.cohortenrollment", build_enrolment_payload)
        payloads.register_send_check("enrolments.cohortenrollment", enrolment_send_check)
        learner_consent_changed.connect(receivers.learner_consent_changed_sync)
        learner_verified_facts_changed.connect(receivers.learner_verified_facts_changed_reopen)
        learner_merged.connect(receivers.learner_merged_refresh)
        learner_national_id_changed.connect(receivers.learner_national_id_changed_sync)

        # Charts: the cohort page's progress funnel, the start page's enrolments per month.
        from accounts.home import home_panel_register
        from cohorts.panels import cohort_panel_register
        from enrolments.selectors import enrollment_progress_panel, enrollments_home_panel

        cohort_panel_register(
            "progress",
            template="enrolments/_cohort_progress_panel.html",
            context=enrollment_progress_panel,
            order=10,
        )
        home_panel_register(
            "enrolments",
            template="enrolments/_home_chart.html",
            context=enrollments_home_panel,
            order=90,
            wide=True,
        )
