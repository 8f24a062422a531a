"""What the training gateway is sent for an enrolment: created once, cancelled when the student
is withdrawn (integrations.payloads). Other changes are not the gateway's business."""

from enrolments.models import CohortEnrollment, EnrollmentState
from integrations.models import SyncJobType
from integrations.payloads import SyncRequest
from learners.services import national_id_produce


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
    if reported:
        return None
    student = enrollment.user
    return SyncRequest(
        SyncJobType.ENROLMENT_CREATE,
        {
            "enrolment": {
                "reference": reference,
                "course": {"run": {"reference": f"cohort-{enrollment.cohort_id}"}},
                "trainee": {
                    "idNumber": national_id_produce(
                        learner=enrollment.learner, actor=None, purpose="training gateway"
                    ),
                    "fullName": student.full_name,
                    "email": student.email,
                },
            }
        },
    )
