"""What the training gateway is sent for a cohort: a course run of the programme, created once
and updated on every change the gateway sees (integrations.payloads)."""

from datetime import date

from cohorts.models import Cohort
from integrations.models import SyncJobType
from integrations.payloads import SyncRequest
from tenants.db import tenant_connection


def _gateway_date(value: date | str) -> str:
    """YYYYMMDD; a date given as ISO text (not yet cleaned) reads the same."""
    return value.strftime("%Y%m%d") if isinstance(value, date) else value.replace("-", "")


def build_cohort_payload(cohort: Cohort, *, reported: bool) -> SyncRequest:
    job_type = SyncJobType.COURSE_RUN_UPDATE if reported else SyncJobType.COURSE_RUN_CREATE
    # A schema entered by name alone (schema_context) has a stand-in tenant without one.
    uen = getattr(tenant_connection.tenant, "registration_number", "") or ""
    run = {
        "reference": f"cohort-{cohort.pk}",
        "title": cohort.name,
        "courseDates": {
            "start": _gateway_date(cohort.start_date),
            "end": _gateway_date(cohort.end_date),
        },
        "intakeSize": cohort.student_count,
        "status": cohort.state,
    }
    if cohort.cancellation_reason:
        run["cancellationReason"] = cohort.cancellation_reason
    return SyncRequest(
        job_type,
        {
            "course": {
                "trainingProvider": {"uen": uen},
                "courseReferenceNumber": cohort.program_type,
                "run": run,
            }
        },
    )
