from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery"

    def ready(self) -> None:
        # Results: a cohort completes once each learner's programme outcome is recorded.
        from cohorts.signals import cohort_completion_blockers_asked
        from delivery.selectors.outcomes import cohort_completion_blockers_outcomes

        cohort_completion_blockers_asked.connect(cohort_completion_blockers_outcomes)

        # The start page: registers to take, runs to moderate.
        from accounts.home import home_panel_register
        from delivery.home import delivery_home_panel

        home_panel_register(
            "delivery",
            template="delivery/_home_panel.html",
            context=delivery_home_panel,
            order=25,
        )

        # The cohort page: its attendance rate week by week.
        from cohorts.panels import cohort_panel_register
        from delivery.selectors.attendance import cohort_attendance_panel

        cohort_panel_register(
            "attendance",
            template="delivery/_cohort_attendance_panel.html",
            context=cohort_attendance_panel,
            order=20,
        )

        # Runs: a learner withdrawn from the cohort leaves the runs whose results are open.
        from delivery.services.runs import enrollment_withdrawn_drop_runs
        from enrolments.signals import enrollment_withdrawn

        enrollment_withdrawn.connect(enrollment_withdrawn_drop_runs)

        # The training gateway: what is sent of runs, enrolments, attendance and results.
        from delivery import gateway
        from integrations import payloads

        payloads.register(gateway.COURSE_RUN, gateway.build_course_run_payload)
        payloads.register(gateway.COURSE_ENROLMENT, gateway.build_course_enrolment_payload)
        payloads.register(gateway.ATTENDANCE, gateway.build_attendance_payload)
        payloads.register(gateway.ASSESSMENT, gateway.build_assessment_payload)
        payloads.register_send_check(gateway.COURSE_ENROLMENT, gateway.course_enrolment_send_check)
        payloads.register_send_check(gateway.ATTENDANCE, gateway.attendance_send_check)
        payloads.register_send_check(gateway.ASSESSMENT, gateway.assessment_send_check)
        payloads.register_resolver(gateway.VOID_REASON, gateway.void_reason_resolve)

        # Each record's gateway standing follows its jobs; what waited for a learner's consent
        # to sharing with the funding body goes once they give it.
        from delivery import receivers
        from integrations.models import SyncJob
        from integrations.signals import sync_jobs_recorded
        from learners.signals import learner_consent_changed

        sync_jobs_recorded.connect(receivers.sync_jobs_recorded_follow, sender=SyncJob)
        learner_consent_changed.connect(receivers.learner_consent_changed_sync)
