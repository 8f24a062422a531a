"""What the training gateway is sent for an enrolment: created once the student consents to
sharing with the funding body, cancelled when the student is withdrawn (integrations.payloads).
Other changes are not the gateway's business. The ID number is a reference in the stored job,
filled in when it is sent (learners.gateway)."""

from enrolments.models import CohortEnrollment, EnrollmentState
from integrations.models import SyncJobType
from integrations.payloads import SyncRequest
from learners.consents import consent_given
from learners.gateway import funding_body_sharing_check, national_id_reference
from learners.models import ConsentKind, Learner


def build_enrolment_payload(enrollment: CohortEnrollment, *, reported: bool) -> SyncRequest | None:
    reference = f"enrolment-{enrollment.pk}"
    if enrollment.state == EnrollmentState.WITHDRAWN:
        # Never reported: there is nothing at the gateway to cancel.
        if not reported:
            return None
        return SyncRequest(
            SyncJobType.ENROLMENT_CANCEL,
            {
                "enrolment": {
                    "action": "Cancel",
                    "reference": reference,
                    "reason": enrollment.withdrawal_reason,
                }
            },
        )
    if reported or not consent_given(enrollment.learner, ConsentKind.FUNDING_BODY_SHARING):
        # Without the consent it waits: enrolments.receivers queues it when the student gives it.
        return None
    student = enrollment.user
    return SyncRequest(
        SyncJobType.ENROLMENT_CREATE,
        {
            "enrolment": {
                "reference": reference,
                "course": {"run": {"reference": f"cohort-{enrollment.cohort_id}"}},
                "trainee": {
                    "idNumber": national_id_reference(enrollment.learner),
                    "fullName": student.full_name,
                    "email": student.email,
                },
            }
        },
    )


def enrolment_send_check(entity_id: str, *, job_type: str) -> None:
    """An enrolment's details go to the gateway only while the student consents to sharing
    them with the funding body, whether or not the job carries their number. A cancellation
    carries no details and always goes."""
    if job_type == SyncJobType.ENROLMENT_CANCEL:
        return
    funding_body_sharing_check(Learner.objects.filter(enrollments__pk=entity_id).first())
