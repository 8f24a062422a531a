"""What the training gateway is sent of delivery (integrations.payloads; seed 002): course runs,
learners' enrolments in them with fees, attendance once a register is signed off, and results
once the run is moderated. Each record is referred to by its own reference (`run-12`); a record
that belongs to another at the gateway (an enrolment to its run) carries that record's gateway
reference as a `$gateway_reference` placeholder, filled in when the job is sent and waited for
until the gateway has accepted the other record.

A learner's enrolment, attendance and results go only while they consent to sharing with the
funding body (the builders send nothing without it, and the send check holds back a job whose
consent was withdrawn after it was queued); a cancellation or a void withdraws what the gateway
holds and always goes. A void's reason may say something personal: the job keeps a reference
to it (`$void_reason`), filled in when the void is sent, with the reason while the learner
consents and a generic one otherwise."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.crypto import salted_hmac

from delivery.models import (
    Assessment,
    AssessmentResult,
    AttendanceRecord,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
    CourseRunStatus,
)
from integrations.models import SyncJobType
from integrations.payloads import GATEWAY_REFERENCE, PayloadWithheld, SyncRequest
from learners.consents import consent_given
from learners.gateway import funding_body_sharing_check, national_id_reference
from learners.models import ConsentKind, Learner
from tenants.db import tenant_connection

COURSE_RUN = "delivery.courserun"
COURSE_ENROLMENT = "delivery.courseenrollment"
ATTENDANCE = "delivery.attendancerecord"
ASSESSMENT = "delivery.assessment"

VOID_REASON = "$void_reason"
# What the gateway is told of a void whose learner does not consent to sharing when it is sent.
GENERIC_VOID_REASON = "Voided by the training provider."


def run_reference(run_id: int) -> str:
    return f"run-{run_id}"


def enrolment_reference(enrolment_id: int) -> str:
    return f"course-enrolment-{enrolment_id}"


def attendance_reference(record_id: int) -> str:
    return f"attendance-{record_id}"


def assessment_reference(assessment_id: int) -> str:
    return f"assessment-{assessment_id}"


def _gateway_reference(entity_type: str, entity_id: int) -> dict[str, str]:
    """The gateway's reference of another record, filled in when the job is sent."""
    return {GATEWAY_REFERENCE: entity_type, "id": str(entity_id)}


def _gateway_date(value: date) -> str:
    return value.strftime("%Y%m%d")


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def learner_may_be_sent(learner: Learner) -> bool:
    """Whether the learner consents to sharing their details with the funding body now."""
    return consent_given(learner, ConsentKind.FUNDING_BODY_SHARING)


def build_course_run_payload(run: CourseRun, *, reported: bool) -> SyncRequest | None:
    """Created once, updated on every change the gateway sees, cancelled with its reason."""
    if run.status == CourseRunStatus.CANCELLED:
        if not reported:
            return None  # never at the gateway: nothing to cancel
        job_type = SyncJobType.COURSE_RUN_CANCEL
    else:
        job_type = SyncJobType.COURSE_RUN_UPDATE if reported else SyncJobType.COURSE_RUN_CREATE
    # A schema entered by name alone (schema_context) has a stand-in tenant without one.
    uen = getattr(tenant_connection.tenant, "registration_number", "") or ""
    details: dict[str, Any] = {
        "reference": run_reference(run.pk),
        "title": run.title,
        "courseDates": {
            "start": _gateway_date(run.start_date),
            "end": _gateway_date(run.end_date),
        },
        "modeOfTraining": run.delivery_mode,
        "venue": run.venue,
        "intakeSize": run.capacity,
    }
    if job_type == SyncJobType.COURSE_RUN_CANCEL:
        details["action"] = "cancel"
        details["cancellationReason"] = run.cancellation_reason
    return SyncRequest(
        job_type,
        {
            "course": {
                "trainingProvider": {"uen": uen},
                "courseReferenceNumber": run.course_ref,
                "run": details,
            }
        },
    )


def build_course_enrolment_payload(
    enrolment: CourseEnrollment, *, reported: bool
) -> SyncRequest | None:
    """A learner's place in a run, with the fee and who pays it; cancelled when they drop."""
    reference = enrolment_reference(enrolment.pk)
    if enrolment.status == CourseEnrollmentStatus.DROPPED:
        if not reported:
            return None
        return SyncRequest(
            SyncJobType.ENROLMENT_CANCEL,
            {"enrolment": {"action": "Cancel", "reference": reference}},
        )
    learner = enrolment.enrollment.learner
    if not learner_may_be_sent(learner):
        # It waits: delivery's receivers queue it when the learner consents.
        return None
    student = enrolment.enrollment.user
    return SyncRequest(
        SyncJobType.ENROLMENT_UPDATE if reported else SyncJobType.ENROLMENT_CREATE,
        {
            "enrolment": {
                "reference": reference,
                "course": {
                    "referenceNumber": enrolment.course_run.course_ref,
                    "run": {"reference": _gateway_reference(COURSE_RUN, enrolment.course_run_id)},
                },
                "trainee": {
                    "idNumber": national_id_reference(learner),
                    "fullName": student.full_name,
                    "email": student.email,
                },
                "enrolmentDate": _gateway_date(enrolment.enrollment_date),
                "status": enrolment.get_status_display(),
                "fees": {
                    "amount": _amount(enrolment.fee_amount),
                    "currency": enrolment.fee_currency,
                },
                "subsidy": enrolment.subsidy_info,
            }
        },
    )


def build_attendance_payload(record: AttendanceRecord, *, reported: bool) -> SyncRequest | None:
    """A learner's attendance at one session, once its register is signed off; a correction
    made after sign-off is sent as an update."""
    if record.signed_off_at is None:
        return None
    if not learner_may_be_sent(record.enrolment.enrollment.learner):
        return None
    session = record.session
    return SyncRequest(
        SyncJobType.ATTENDANCE_UPDATE if reported else SyncJobType.ATTENDANCE_CREATE,
        {
            "attendance": {
                "reference": attendance_reference(record.pk),
                "course": {
                    "run": {"reference": _gateway_reference(COURSE_RUN, session.course_run_id)}
                },
                "session": {
                    "reference": f"session-{session.pk}",
                    "date": _gateway_date(session.session_date),
                    "startTime": session.start_time.strftime("%H:%M"),
                    "endTime": session.end_time.strftime("%H:%M"),
                },
                "enrolment": {
                    "reference": _gateway_reference(COURSE_ENROLMENT, record.enrolment_id)
                },
                "status": record.status,
            }
        },
    )


def build_assessment_payload(assessment: Assessment, *, reported: bool) -> SyncRequest | None:
    """A result, once the run's results are moderated; a correction is an update, a void is
    sent as a void with its reason."""
    enrolment = assessment.enrolment
    run = enrolment.course_run
    if run.moderated_at is None:
        return None
    reference = assessment_reference(assessment.pk)
    if assessment.result == AssessmentResult.VOID:
        if not reported:
            return None  # the gateway never had it
        return SyncRequest(
            SyncJobType.ASSESSMENT_VOID,
            {
                "assessment": {
                    "action": "void",
                    "reference": reference,
                    "voidReason": void_reason_reference(assessment),
                }
            },
        )
    if not learner_may_be_sent(enrolment.enrollment.learner):
        return None
    return SyncRequest(
        SyncJobType.ASSESSMENT_UPDATE if reported else SyncJobType.ASSESSMENT_CREATE,
        {
            "assessment": {
                "reference": reference,
                "course": {"run": {"reference": _gateway_reference(COURSE_RUN, run.pk)}},
                "enrolment": {"reference": _gateway_reference(COURSE_ENROLMENT, enrolment.pk)},
                "type": assessment.assessment_type,
                "score": _amount(assessment.score),
                "result": assessment.get_result_display(),
                "assessmentDate": _gateway_date(assessment.assessed_at.date()),
                "assessor": {"name": assessment.assessor.full_name},
            }
        },
    )


def _void_reason_digest(reason: str) -> str:
    return salted_hmac("delivery.void_reason", reason).hexdigest()[:16]


def void_reason_reference(assessment: Assessment) -> dict[str, Any]:
    """What a void's payload holds in place of its reason: the result's id and a keyed digest
    of the reason (so that a changed reason makes a new version of the payload)."""
    return {VOID_REASON: assessment.pk, "digest": _void_reason_digest(assessment.void_reason)}


def void_reason_resolve(reference: dict[str, Any]) -> str:
    """The reason a void is sent with: the one it was queued with while the learner consents to
    sharing with the funding body, else the generic one (the void itself always goes)."""
    assessment = (
        Assessment.objects.select_related("enrolment__enrollment__learner")
        .filter(pk=reference[VOID_REASON])
        .first()
    )
    if (
        assessment is None
        or _void_reason_digest(assessment.void_reason) != reference.get("digest")
        or not learner_may_be_sent(assessment.enrolment.enrollment.learner)
    ):
        return GENERIC_VOID_REASON
    return assessment.void_reason


# Job types that withdraw what the gateway holds: they carry no learner's details.
_WITHDRAWALS = frozenset({SyncJobType.ENROLMENT_CANCEL, SyncJobType.ASSESSMENT_VOID})


def _learner_check(learners: QuerySet[Learner], job_type: str) -> None:
    """Hold back a job of a learner's record unless they consent to sharing with the funding
    body when it is sent; a withdrawal carries no details and always goes."""
    if job_type in _WITHDRAWALS:
        return
    learner = learners.first()
    if learner is None:
        raise PayloadWithheld("the record no longer exists.")
    funding_body_sharing_check(learner)


def course_enrolment_send_check(entity_id: str, *, job_type: str) -> None:
    learners = Learner.objects.filter(enrollments__course_enrollments__pk=entity_id)
    _learner_check(learners, job_type)


def attendance_send_check(entity_id: str, *, job_type: str) -> None:
    learners = Learner.objects.filter(enrollments__course_enrollments__attendance__pk=entity_id)
    _learner_check(learners, job_type)


def assessment_send_check(entity_id: str, *, job_type: str) -> None:
    learners = Learner.objects.filter(enrollments__course_enrollments__assessments__pk=entity_id)
    _learner_check(learners, job_type)
