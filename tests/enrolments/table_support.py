"""A cohort whose students stand at every step the students table tells apart: agreement not
sent, waiting for the student, waiting for the sponsor (one document missing), declined by the
student (a document rejected), signed by every party (documents approved). The agreements are
multi-signer submissions (student, sponsor, institution) made and signed through the signing
services, as the tripartite agreement is."""

from dataclasses import dataclass

from stdnum import luhn

from accounts.models import User
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment, StudentDocument
from enrolments.selectors import enrollment_agreement_values
from enrolments.services import enrollment_invite
from signing.models import SignerRole, Submission
from signing.selectors import link_for_token
from signing.services.completion import submitter_decline, submitter_sign
from signing.services.submissions import submission_create, submission_send
from tests.enrolments.conftest import id_type, upload_document
from tests.factories import CohortFactory
from tests.signing.conftest import token_from
from tests.verification.conftest import matric_type
from verification.services import document_review

DECLINE_REASON = "Clause 4 names the wrong employer."


@dataclass
class StudentsAtEveryStep:
    cohort: Cohort
    not_sent: CohortEnrollment
    waiting_student: CohortEnrollment
    waiting_sponsor: CohortEnrollment
    declined: CohortEnrollment
    signed: CohortEnrollment


def _id_number(number: int) -> str:
    base = f"9001015{number:04d}8"[:12]
    return base + luhn.calc_check_digit(base)


def _agreement(enrollment: CohortEnrollment, admin: User) -> Submission:
    student = enrollment.user
    return submission_create(
        template=enrollment.cohort.main_template,
        context=enrollment_agreement_values(enrollment),
        signers=[
            {"role": SignerRole.STUDENT, "name": student.full_name, "email": student.email},
            {"role": SignerRole.SPONSOR, "name": "Sam Sponsor", "email": "sam@sponsor.example"},
            {"role": SignerRole.INSTITUTION_ADMIN, "name": admin.full_name, "email": admin.email},
        ],
        subject=enrollment,
        actor=admin,
    )


def sign_next(submission: Submission, name: str) -> None:
    link = link_for_token(token_from(submission_send(submission=submission, notify=False)))
    submitter_sign(link=link, signed_name=name, consent=True, signature_text=name)


def _review(document: StudentDocument, admin: User, *, approve: bool) -> None:
    document_review(
        document=document, reviewer=admin, approve=approve, reason="" if approve else "Blurred."
    )


def students_at_every_step(admin: User, cohort: Cohort | None = None) -> StudentsAtEveryStep:
    cohort = cohort or CohortFactory(active=True, name="Plumbing 2027")
    made = {}
    for number, (key, name) in enumerate(
        [
            ("not_sent", "Ann Notsent"),
            ("waiting_student", "Ben Waitingstudent"),
            ("waiting_sponsor", "Cara Waitingsponsor"),
            ("declined", "Dan Declined"),
            ("signed", "Eve Signed"),
        ]
    ):
        made[key] = enrollment_invite(
            cohort=cohort,
            actor=admin,
            email=f"{name.split()[0].lower()}@example.org",
            full_name=name,
            id_number=_id_number(number),
        )
    _agreement(made["waiting_student"], admin)
    upload_document(made["waiting_student"], id_type())
    upload_document(made["waiting_student"], matric_type())

    waiting_sponsor = _agreement(made["waiting_sponsor"], admin)
    sign_next(waiting_sponsor, "Cara Waitingsponsor")
    upload_document(made["waiting_sponsor"], id_type())

    declined = _agreement(made["declined"], admin)
    link = link_for_token(token_from(submission_send(submission=declined, notify=False)))
    submitter_decline(link=link, reason=DECLINE_REASON)
    upload_document(made["declined"], id_type())
    _review(upload_document(made["declined"], matric_type()), admin, approve=False)

    signed = _agreement(made["signed"], admin)
    for name in ("Eve Signed", "Sam Sponsor", admin.full_name):
        sign_next(signed, name)
    for document_type in (id_type(), matric_type()):
        _review(upload_document(made["signed"], document_type), admin, approve=True)
    return StudentsAtEveryStep(cohort=cohort, **made)
