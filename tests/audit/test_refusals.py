"""Every refused service call leaves its `permission.denied` event behind. The check runs before
the service's transaction opens; a check inside it would see its event rolled back with the
refused change (here, to the service's savepoint inside the test's transaction)."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import SystemRole, User
from accounts.services import user_deactivate, user_invite, user_reactivate, user_roles_set
from audit.models import AuditEvent
from cohorts.models import Cohort, DocumentType
from cohorts.services import (
    cohort_activate,
    cohort_cancel,
    cohort_complete,
    cohort_create,
    cohort_main_agreement_start,
    cohort_record_admin_signature,
    cohort_reviewer_set,
    cohort_update,
    document_type_save,
)
from enrolments.agreements import enrollment_agreement_sign, enrollment_agreement_start
from enrolments.models import CohortEnrollment, StudentDocument
from enrolments.services import (
    enrollment_details_save,
    enrollment_document_add,
    enrollment_invitation_resend,
    enrollment_invite,
    enrollment_withdraw,
)
from integrations.models import SyncJob
from integrations.services import connector_config_save, sync_job_cancel, sync_job_retry
from signing.models import AgreementTemplate, Submission
from signing.services.certificates import certificate_import_pkcs12
from signing.services.submissions import submission_resend, submission_revoke
from signing.services.templates import template_create, template_update
from sponsors.models import Sponsor
from sponsors.services import (
    cohort_sponsor_set,
    sponsor_create,
    sponsor_invite,
    sponsor_invite_revoke,
    sponsor_update,
)
from tenants.models import Institution
from tenants.services import institution_profile_update
from tests.enrolments.conftest import id_type, upload_document
from tests.factories import CohortFactory, UserFactory
from verification.services import document_review

pytestmark = pytest.mark.django_db


@dataclass
class World:
    institution: Institution
    admin: User
    stranger: User  # a student with no part in any of this
    cohort: Cohort
    enrollment: CohortEnrollment
    document: StudentDocument
    template: AgreementTemplate


@pytest.fixture
def world(institution, media) -> World:
    admin = UserFactory(roles=[SystemRole.ADMIN])
    cohort = CohortFactory(active=True)
    enrollment = enrollment_invite(
        cohort=cohort, actor=admin, email="enrolled@example.org", full_name="Enrolled Student"
    )
    return World(
        institution=institution,
        admin=admin,
        stranger=UserFactory(roles=[SystemRole.STUDENT]),
        cohort=cohort,
        enrollment=enrollment,
        document=upload_document(enrollment, id_type()),
        template=AgreementTemplate.objects.order_by("pk").first(),
    )


REFUSALS: list[tuple[str, Callable[[World], object]]] = [
    (
        "accounts.user_invite",
        lambda w: user_invite(
            email="new@example.org", full_name="", roles=[SystemRole.STUDENT], actor=w.stranger
        ),
    ),
    (
        "accounts.user_roles_set",
        lambda w: user_roles_set(user=w.admin, roles=[SystemRole.STUDENT], actor=w.stranger),
    ),
    ("accounts.user_deactivate", lambda w: user_deactivate(user=w.admin, actor=w.stranger)),
    ("accounts.user_reactivate", lambda w: user_reactivate(user=w.admin, actor=w.stranger)),
    ("cohorts.cohort_create", lambda w: cohort_create(actor=w.stranger, name="Refused")),
    (
        "cohorts.cohort_update",
        lambda w: cohort_update(cohort=w.cohort, actor=w.stranger, changes={"student_count": 3}),
    ),
    (
        "cohorts.cohort_record_admin_signature",
        lambda w: cohort_record_admin_signature(
            cohort=w.cohort, actor=w.stranger, signature="Stranger"
        ),
    ),
    (
        "cohorts.cohort_record_admin_signature",
        lambda w: cohort_main_agreement_start(cohort=w.cohort, actor=w.stranger),
    ),
    ("cohorts.cohort_activate", lambda w: cohort_activate(cohort=w.cohort, actor=w.stranger)),
    ("cohorts.cohort_complete", lambda w: cohort_complete(cohort=w.cohort, actor=w.stranger)),
    (
        "cohorts.cohort_cancel",
        lambda w: cohort_cancel(cohort=w.cohort, actor=w.stranger, reason="No"),
    ),
    (
        "cohorts.cohort_reviewer_set",
        lambda w: cohort_reviewer_set(
            cohort=w.cohort, actor=w.stranger, reviewer=w.stranger, allowed=True
        ),
    ),
    (
        "cohorts.document_type_save",
        lambda w: document_type_save(actor=w.stranger, document_type=DocumentType(name="Refused")),
    ),
    (
        "enrolments.enrollment_invite",
        lambda w: enrollment_invite(
            cohort=w.cohort, actor=w.stranger, email="other@example.org", full_name="Other"
        ),
    ),
    (
        "enrolments.resend",
        lambda w: enrollment_invitation_resend(enrollment=w.enrollment, actor=w.stranger),
    ),
    (
        "enrolments.enrollment_details_save",
        lambda w: enrollment_details_save(enrollment=w.enrollment, actor=w.stranger, details={}),
    ),
    (
        "enrolments.enrollment_agreement_sign",
        lambda w: enrollment_agreement_start(enrollment=w.enrollment, actor=w.stranger),
    ),
    (
        "enrolments.enrollment_agreement_sign",
        lambda w: enrollment_agreement_sign(
            enrollment=w.enrollment, actor=w.stranger, signature="Stranger"
        ),
    ),
    (
        "enrolments.enrollment_document_add",
        lambda w: enrollment_document_add(
            enrollment=w.enrollment, actor=w.stranger, document=StudentDocument()
        ),
    ),
    (
        "enrolments.withdraw",
        lambda w: enrollment_withdraw(enrollment=w.enrollment, actor=w.stranger, reason="No"),
    ),
    (
        "verification.document_review",
        lambda w: document_review(document=w.document, reviewer=w.stranger, approve=True),
    ),
    (
        "signing.template_create",
        lambda w: template_create(
            title="T", body="<p>B</p>", signer_roles=["student"], actor=w.stranger
        ),
    ),
    (
        "signing.template_update",
        lambda w: template_update(
            template=w.template,
            title="T",
            body="<p>B</p>",
            signer_roles=["student"],
            actor=w.stranger,
        ),
    ),
    (
        "signing.submission_resend",
        lambda w: submission_resend(submission=Submission(), actor=w.stranger),
    ),
    (
        "signing.submission_revoke",
        lambda w: submission_revoke(submission=Submission(), actor=w.stranger),
    ),
    (
        "signing.certificate_import_pkcs12",
        lambda w: certificate_import_pkcs12(data=b"", password="", actor=w.stranger),
    ),
    ("sponsor.create", lambda w: sponsor_create(actor=w.stranger, company_name="Refused")),
    ("sponsor.update", lambda w: sponsor_update(sponsor=Sponsor(), actor=w.stranger)),
    (
        "cohort.sponsor_set",
        lambda w: cohort_sponsor_set(cohort=w.cohort, sponsor=None, actor=w.stranger),
    ),
    ("sponsor.invite", lambda w: sponsor_invite(cohort=w.cohort, actor=w.stranger)),
    ("sponsor.invite_revoke", lambda w: sponsor_invite_revoke(cohort=w.cohort, actor=w.stranger)),
    (
        "integrations.connector_config_save",
        lambda w: connector_config_save(
            actor=w.stranger, connector="rest", base_url="https://example.org"
        ),
    ),
    ("integrations.sync_job_retry", lambda w: sync_job_retry(job=SyncJob(), actor=w.stranger)),
    ("integrations.sync_job_cancel", lambda w: sync_job_cancel(job=SyncJob(), actor=w.stranger)),
    (
        "tenants.institution_profile_update",
        lambda w: institution_profile_update(
            institution=w.institution, actor=w.stranger, changes={"name": "Taken over"}
        ),
    ),
]


@pytest.mark.parametrize(
    ("action", "call"),
    REFUSALS,
    ids=[f"{action}:{number}" for number, (action, _) in enumerate(REFUSALS)],
)
def test_a_refused_call_keeps_its_audit_event(world, action, call):
    with pytest.raises(PermissionDenied):
        call(world)

    assert AuditEvent.objects.filter(
        action="permission.denied",
        actor=world.stranger,
        entity_type="permission",
        entity_id=action,
    ).exists()
