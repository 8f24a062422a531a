import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from guardian.shortcuts import get_objects_for_user

from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.models import Cohort, CohortState, DocumentType
from cohorts.services import (
    cohort_activate,
    cohort_cancel,
    cohort_complete,
    cohort_create,
    cohort_main_agreement_start,
    cohort_record_admin_signature,
    cohort_reviewer_set,
    cohort_update,
)
from enrolments.services import enrollment_invite
from signing.models import AgreementTemplate
from tests.factories import CohortFactory, CourseRunFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db


def _signed(cohort, admin):
    return cohort_record_admin_signature(cohort=cohort, actor=admin, signature=str(admin))


def test_create_makes_a_draft_and_audits_it(admin):
    template = AgreementTemplate.objects.first()
    documents = list(DocumentType.objects.all()[:2])
    cohort = cohort_create(
        actor=admin,
        name="Q1 2027 Learnership",
        program_type="learnership",
        student_count=25,
        start_date=CohortFactory.start_date.function(),
        end_date=CohortFactory.end_date.function(),
        main_template=template,
        supporting_templates=[],
        required_document_types=documents,
    )
    assert cohort.state == CohortState.DRAFT
    assert set(cohort.required_document_types.all()) == set(documents)
    event = AuditEvent.objects.get(action="cohort.created")
    assert event.new_values["required_document_types"] == sorted(d.pk for d in documents)


def test_a_cohort_cannot_end_before_it_starts(admin):
    with pytest.raises(ValidationError):
        cohort_create(
            actor=admin,
            name="Backwards",
            program_type="internship",
            start_date=CohortFactory.end_date.function(),
            end_date=CohortFactory.start_date.function(),
        )


def test_students_and_auditors_cannot_create_cohorts(institution):
    for role in (SystemRole.STUDENT, SystemRole.AUDITOR, SystemRole.VERIFIER):
        with pytest.raises(PermissionDenied):
            cohort_create(actor=UserFactory(roles=[role]), name="x", program_type="learnership")


def test_activation_explains_what_is_missing(admin):
    cohort = CohortFactory(main_template=None, required_document_types=[])
    with pytest.raises(ValidationError) as refusal:
        cohort_activate(cohort=cohort, actor=admin)
    message = refusal.value.messages[0]
    assert message.startswith("Cannot activate:")
    assert "no main agreement template" in message
    assert "no required document" in message
    assert "has not been signed by an admin" in message


def test_signed_cohort_activates_once(admin):
    cohort = _signed(CohortFactory(), admin)
    cohort = cohort_activate(cohort=cohort, actor=admin)
    assert cohort.state == CohortState.ACTIVE
    assert AuditEvent.objects.filter(action="cohort.activated", entity_id=str(cohort.pk)).exists()
    with pytest.raises(ValidationError, match="the cohort is Active"):
        cohort_activate(cohort=cohort, actor=admin)
    with pytest.raises(ValidationError, match="before the cohort is activated"):
        _signed(cohort, admin)


def test_only_dates_and_count_change_after_draft(admin):
    cohort = cohort_activate(cohort=_signed(CohortFactory(), admin), actor=admin)
    cohort_update(cohort=cohort, actor=admin, changes={"student_count": 40})
    cohort.refresh_from_db()
    assert cohort.student_count == 40
    with pytest.raises(ValidationError, match="Only dates and the expected number"):
        cohort_update(cohort=cohort, actor=admin, changes={"name": "Renamed"})
    event = AuditEvent.objects.get(action="cohort.updated")
    assert event.old_values == {"student_count": 20}
    assert event.new_values == {"student_count": 40}


def test_completion_needs_every_enrolment_done_unless_forced(admin):
    cohort = cohort_activate(cohort=_signed(CohortFactory(), admin), actor=admin)
    enrollment_invite(cohort=cohort, actor=admin, email="s1@example.org", full_name="S One")

    with pytest.raises(ValidationError, match="1 enrolment\\(s\\) are not complete"):
        cohort_complete(cohort=cohort, actor=admin)

    cohort = cohort_complete(cohort=cohort, actor=admin, force_reason="Programme ended early")
    assert cohort.state == CohortState.COMPLETED
    assert cohort.forced_completion_reason == "Programme ended early"
    event = AuditEvent.objects.get(action="cohort.completed_forcibly")
    assert event.new_values["reason"] == "Programme ended early"


def test_cancel_needs_a_reason_and_is_final(admin):
    cohort = CohortFactory()
    with pytest.raises(ValidationError, match="Say why"):
        cohort_cancel(cohort=cohort, actor=admin, reason="  ")
    cohort = cohort_cancel(cohort=cohort, actor=admin, reason="Sponsor withdrew")
    assert cohort.state == CohortState.CANCELLED
    with pytest.raises(ValidationError, match="Cannot cancel"):
        cohort_cancel(cohort=cohort, actor=admin, reason="Again")


def test_state_cannot_be_assigned_directly(admin):
    cohort = CohortFactory()
    with pytest.raises(AttributeError):
        cohort.state = CohortState.ACTIVE


def test_a_verifier_sees_only_the_cohorts_granted_to_them(admin):
    verifier = UserFactory(roles=[SystemRole.VERIFIER])
    granted, other = CohortFactory(), CohortFactory()
    cohort_reviewer_set(cohort=granted, actor=admin, reviewer=verifier, allowed=True)

    visible = get_objects_for_user(
        verifier, "cohorts.review_cohort", klass=Cohort, accept_global_perms=False
    )
    assert list(visible) == [granted]
    assert other not in visible
    with pytest.raises(ValidationError, match="not a verifier"):
        cohort_reviewer_set(
            cohort=other,
            actor=admin,
            reviewer=UserFactory(roles=[SystemRole.TRAINER]),
            allowed=True,
        )


def test_main_agreement_submission_signed_lets_the_cohort_activate(admin):
    from cohorts.services import cohort_main_agreement_start
    from signing.models import SubmissionStatus
    from signing.selectors import link_for_token, submissions_for_subject
    from signing.services.completion import submitter_sign

    cohort = CohortFactory()
    url = cohort_main_agreement_start(cohort=cohort, actor=admin)
    submission = submissions_for_subject(cohort).get()
    assert submission.status == SubmissionStatus.PENDING
    assert [signer.role for signer in submission.submitters.all()] == ["institution_admin"]
    with pytest.raises(ValidationError):
        cohort_activate(cohort=cohort, actor=admin)

    token = url.rstrip("/").rsplit("/", 1)[-1]
    submitter_sign(
        link=link_for_token(token),
        signed_name="Ada Admin",
        consent=True,
        signature_text="Ada Admin",
    )

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.COMPLETED
    cohort.refresh_from_db()
    assert cohort.admin_signed_at is not None
    assert cohort.admin_signed_by == admin
    event = AuditEvent.objects.get(action="cohort.main_agreement_signed", entity_id=str(cohort.pk))
    assert event.new_values["signature"] == "(changed)"  # the name stays on the agreement
    cohort_activate(cohort=cohort, actor=admin)
    cohort.refresh_from_db()
    assert cohort.state == CohortState.ACTIVE


def test_starting_the_main_agreement_again_reuses_the_open_one(admin):
    from cohorts.services import cohort_main_agreement_start
    from signing.models import SubmissionStatus
    from signing.selectors import link_for_token, submissions_for_subject
    from signing.services.templates import template_update

    cohort = CohortFactory()
    first = cohort_main_agreement_start(cohort=cohort, actor=admin)
    second = cohort_main_agreement_start(cohort=cohort, actor=admin)
    assert submissions_for_subject(cohort).count() == 1
    assert link_for_token(first.rstrip("/").rsplit("/", 1)[-1]).state == "revoked"
    assert link_for_token(second.rstrip("/").rsplit("/", 1)[-1]).state == "usable"

    other_admin = UserFactory(roles=[SystemRole.ADMIN])
    cohort_main_agreement_start(cohort=cohort, actor=other_admin)
    template = template_update(
        template=cohort.main_template,
        actor=admin,
        title=cohort.main_template.title,
        body=cohort.main_template.body + "<p>More.</p>",
        signer_roles=cohort.main_template.signer_roles,
    )
    cohort_main_agreement_start(cohort=cohort, actor=other_admin)
    statuses = [s.status for s in submissions_for_subject(cohort).order_by("created_at")]
    assert statuses == [
        SubmissionStatus.REVOKED,
        SubmissionStatus.REVOKED,
        SubmissionStatus.PENDING,
    ]
    newest = submissions_for_subject(cohort).first()
    assert newest.submitters.get().user == other_admin
    assert newest.template_version.number == template.version


def test_completion_waits_for_the_sponsors_signature(admin):
    from sponsors.services import cohort_sponsor_set, sponsor_create

    cohort = cohort_activate(cohort=_signed(CohortFactory(), admin), actor=admin)
    sponsor = sponsor_create(
        actor=admin,
        company_name="Acme Mining",
        contact_name="Pat",
        contact_email="pat@acme.example",
    )
    cohort = cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)

    with pytest.raises(ValidationError, match="the sponsor has not signed the agreement"):
        cohort_complete(cohort=cohort, actor=admin)
    assert cohort_complete(cohort=cohort, actor=admin, force_reason="Signed on paper").state == (
        CohortState.COMPLETED
    )


def test_changing_a_signed_draft_cohorts_agreement_asks_for_a_new_signature(admin):
    from signing.services.templates import template_create

    cohort = CohortFactory()
    cohort = cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada Admin")
    assert cohort.main_template_version.template_id == cohort.main_template_id
    other = template_create(
        title="Internship agreement",
        body="<p>Terms.</p>",
        signer_roles=["student"],
        actor=admin,
    )

    cohort = cohort_update(cohort=cohort, actor=admin, changes={"main_template": other})

    assert (cohort.admin_signed_at, cohort.admin_signed_by, cohort.main_template_version) == (
        None,
        None,
        None,
    )
    with pytest.raises(ValidationError, match="main agreement has not been signed"):
        cohort_activate(cohort=cohort, actor=admin)
    event = AuditEvent.objects.filter(action="cohort.updated", entity_id=str(cohort.pk)).latest(
        "id"
    )
    assert event.new_values["admin_signed_at"] is None


def test_cohorts_signed_before_versions_were_recorded_get_the_version_then_current(admin):
    import datetime
    import importlib

    from django.apps import apps
    from django.db import connection
    from django.utils import timezone

    migration = importlib.import_module("cohorts.migrations.0005_cohort_main_template_version")
    cohort = cohort_record_admin_signature(cohort=CohortFactory(), actor=admin, signature="Ada")
    signed = cohort.main_template_version
    later = cohort.main_template.versions.create(
        number=signed.number + 1,
        title=signed.title,
        body="<p>Later terms.</p>",
        signer_roles=signed.signer_roles,
        created_at=timezone.now() + datetime.timedelta(days=1),
    )
    Cohort.objects.filter(pk=cohort.pk).update(main_template_version=None)

    migration.record_signed_versions(apps, connection.schema_editor())

    cohort.refresh_from_db()
    assert cohort.main_template_version == signed != later


def test_the_version_recorded_for_a_signed_cohort_is_the_one_its_admin_signed(admin):
    """The template was edited while the admin's signing page was open: the newer version
    existed before the signature, but the admin signed the older one."""
    import importlib

    from django.apps import apps
    from django.db import connection

    from signing.selectors import link_for_token
    from signing.services.completion import submitter_sign
    from signing.services.templates import template_update

    migration = importlib.import_module("cohorts.migrations.0005_cohort_main_template_version")
    cohort = CohortFactory()
    url = cohort_main_agreement_start(cohort=cohort, actor=admin)
    template = cohort.main_template
    template_update(
        template=template,
        title=template.title,
        body="<p>Edited meanwhile.</p>",
        signer_roles=template.signer_roles,
        actor=admin,
    )
    link = link_for_token(url.rstrip("/").rsplit("/", 1)[-1])
    submitter_sign(link=link, signed_name="Ada", consent=True, signature_text="Ada")
    cohort.refresh_from_db()
    signed = cohort.main_template_version
    assert signed.number == 1
    Cohort.objects.filter(pk=cohort.pk).update(main_template_version=None)

    migration.record_signed_versions(apps, connection.schema_editor())

    cohort.refresh_from_db()
    assert cohort.main_template_version == signed


def test_a_cohorts_programme_stays_while_it_has_runs(admin):
    run = CourseRunFactory(cohort=CohortFactory())
    cohort = run.cohort
    other = ProgrammeFactory()
    with pytest.raises(ValidationError, match=f"has course runs \\({run.course_ref}\\)"):
        cohort_update(cohort=cohort, actor=admin, changes={"programme": other})
    assert Cohort.objects.get(pk=cohort.pk).programme == run.course.programme
    run.status = "cancelled"
    run.save(update_fields=["status"])
    cohort_update(cohort=cohort, actor=admin, changes={"programme": other})
    assert Cohort.objects.get(pk=cohort.pk).programme == other
    event = AuditEvent.objects.filter(action="cohort.updated").latest("pk")
    assert event.new_values == {"programme": other.pk}
