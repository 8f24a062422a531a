"""Merging two learner records of one person: what moves, what is filled, what is refused, the
trail on both, and the preview page."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from enrolments.models import CohortEnrollment, StudentDocument
from enrolments.selectors import StepStatus, enrollment_document_steps
from learners.consents import consent_given
from learners.models import ConsentKind, ConsentMethod, LearnerConsent, LearnerStatus
from learners.services import (
    consent_withdraw,
    learner_merge,
    learner_national_id,
    national_id_holder,
)
from tests.enrolments.conftest import id_type, upload_document
from tests.factories import CohortFactory
from tests.learners.support import consents_give, sa_id_number
from verification.services import document_review

pytestmark = pytest.mark.django_db


def _consent(learner, kind=ConsentKind.DATA_PROCESSING) -> LearnerConsent:
    learner.refresh_from_db()
    learner.consent_flags = {kind: {"given": True, "version": "v1"}}
    learner.save(update_fields=["consent_flags"])
    return LearnerConsent.objects.create(
        learner=learner, kind=kind, wording_version="v1", given=True, method=ConsentMethod.PORTAL
    )


def test_the_other_records_enrolments_documents_consents_and_account_move(admin, register, enrol):
    kept = register(id_number=sa_id_number(11), email="", phone_number="")
    enrollment = enrol(full_name="Thandi Mokoena", email="thandi@example.org")
    other = enrollment.learner
    document = upload_document(enrollment, id_type())
    document_review(document=document, reviewer=admin, approve=True)
    consent = _consent(other)
    account = other.user

    learner_merge(keep=kept, other=other, actor=admin)

    kept.refresh_from_db()
    other.refresh_from_db()
    enrollment.refresh_from_db()
    document.refresh_from_db()
    consent.refresh_from_db()
    assert enrollment.learner == kept
    assert document.enrollment.learner == kept
    assert document.learner == kept
    moved = CohortEnrollment.objects.select_related("cohort", "learner").get(pk=enrollment.pk)
    (identity,) = [step for step in enrollment_document_steps(moved) if step.document == document]
    assert identity.status == StepStatus.DONE
    assert consent.learner == kept
    assert kept.consent_flags == {ConsentKind.DATA_PROCESSING: {"given": True, "version": "v1"}}
    assert (kept.user, other.user) == (account, None)
    assert kept.email == "thandi@example.org"  # filled: the kept record had none
    assert other.status == LearnerStatus.ARCHIVED
    assert learner_national_id(kept) == sa_id_number(11)


def test_of_two_current_documents_of_a_type_the_later_upload_stays_current(admin, register, enrol):
    kept_enrollment = enrol(full_name="Thandi Mokoena")
    kept = kept_enrollment.learner
    earlier = upload_document(kept_enrollment, id_type())
    other = register()
    other_enrollment = enrol(full_name="Someone Else")
    later = upload_document(other_enrollment, id_type())
    # An earlier mistake: the enrolment and its document were put on a record without account.
    CohortEnrollment.objects.filter(pk=other_enrollment.pk).update(learner=other)
    StudentDocument.objects.filter(pk=later.pk).update(learner=other)

    learner_merge(keep=kept, other=other, actor=admin)

    earlier.refresh_from_db()
    later.refresh_from_db()
    assert (earlier.learner, later.learner) == (kept, kept)
    assert (earlier.is_current, later.is_current) == (False, True)
    merged = AuditEvent.objects.get(action="learner.merged", entity_id=str(kept.pk))
    assert merged.new_values["documents_moved"] == 1
    assert merged.new_values["documents_no_longer_current"] == 1


def test_the_later_answer_to_a_consent_counts_whichever_record_has_it(admin, register):
    kept = register()
    other = register(first_name="Thandiwe")
    consents_give(kept, ConsentKind.FUNDING_BODY_SHARING)
    consents_give(other, ConsentKind.FUNDING_BODY_SHARING, ConsentKind.SPONSOR_SHARING)
    consent_withdraw(learner=other, kind=ConsentKind.FUNDING_BODY_SHARING, actor=None)
    consent_withdraw(learner=kept, kind=ConsentKind.SPONSOR_SHARING, actor=None)
    consents_give(kept, ConsentKind.DATA_PROCESSING)
    consent_withdraw(learner=other, kind=ConsentKind.DATA_PROCESSING, actor=None)
    consents_give(kept, ConsentKind.DATA_PROCESSING)

    learner_merge(keep=kept, other=other, actor=admin)

    kept.refresh_from_db()
    assert not consent_given(kept, ConsentKind.FUNDING_BODY_SHARING)  # withdrawn later
    assert not consent_given(kept, ConsentKind.SPONSOR_SHARING)  # withdrawn later, on kept
    assert consent_given(kept, ConsentKind.DATA_PROCESSING)  # given again later, on kept


def test_the_kept_record_takes_the_other_number_when_it_has_none(admin, register, enrol):
    other = register(id_number=sa_id_number(12))
    kept = enrol(full_name="Thandi Mokoena").learner
    learner_merge(keep=kept, other=other, actor=admin)
    kept.refresh_from_db()
    other.refresh_from_db()
    assert learner_national_id(kept) == sa_id_number(12)
    assert (other.national_id_hash, other.national_id_last4, other.national_id_encrypted) == (
        "",
        "",
        None,
    )
    assert national_id_holder(kind="sa_id", country="ZA", number=sa_id_number(12)) == kept


def test_the_archived_record_frees_its_number(admin, register):
    kept = register(id_number=sa_id_number(13))
    other = register(first_name="Thandiwe", id_number=sa_id_number(14))
    learner_merge(keep=kept, other=other, actor=admin)
    kept.refresh_from_db()
    assert learner_national_id(kept) == sa_id_number(13)  # the kept record's number stays
    assert national_id_holder(kind="sa_id", country="ZA", number=sa_id_number(14)) is None
    register(first_name="Someone", last_name="Else", id_number=sa_id_number(14))


def test_the_merge_is_in_both_trails_without_personal_values(admin, register, enrol):
    kept = register(email="")
    other = enrol(full_name="Thandi Mokoena", email="thandi@example.org").learner
    learner_merge(keep=kept, other=other, actor=admin)
    merged = AuditEvent.objects.get(action="learner.merged", entity_id=str(kept.pk))
    away = AuditEvent.objects.get(action="learner.merged_away", entity_id=str(other.pk))
    assert merged.actor == admin
    assert merged.new_values["merged_learner"] == other.pk
    assert merged.new_values["enrollments_moved"] == 1
    assert merged.new_values["account_moved"] is True
    assert "email" in merged.new_values["fields"]
    assert "thandi@example.org" not in str(merged.new_values)
    assert away.new_values == {"kept_learner": kept.pk, "status": "archived"}


def test_two_records_with_accounts_are_not_merged(admin, enrol):
    kept = enrol(full_name="Thandi Mokoena").learner
    other = enrol(full_name="Thandi Mokoena").learner
    with pytest.raises(ValidationError, match="Both records have an account"):
        learner_merge(keep=kept, other=other, actor=admin)
    other.refresh_from_db()
    assert other.status != LearnerStatus.ARCHIVED
    assert not AuditEvent.objects.filter(action="learner.merged").exists()


def test_two_records_in_one_cohort_are_not_merged(admin, register, enrol):
    cohort = CohortFactory(active=True, name="Learnership 2026")
    kept = register()
    other = enrol(cohort=cohort).learner
    third = enrol(cohort=cohort, full_name="Someone Else").learner
    CohortEnrollment.objects.filter(learner=third).update(learner=kept)  # an earlier mistake
    with pytest.raises(ValidationError, match="Both records are enrolled in Learnership 2026"):
        learner_merge(keep=kept, other=other, actor=admin)
    assert CohortEnrollment.objects.filter(learner=other).count() == 1


def test_a_record_is_not_merged_with_itself(admin, register):
    learner = register()
    with pytest.raises(ValidationError, match="cannot be merged with itself"):
        learner_merge(keep=learner, other=learner, actor=admin)


def test_only_people_who_merge_learners_may(verifier, register):
    kept, other = register(), register(first_name="Thandiwe")
    with pytest.raises(PermissionDenied):
        learner_merge(keep=kept, other=other, actor=verifier)
    other.refresh_from_db()
    assert other.status == LearnerStatus.CANDIDATE
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="learners.learner_merge"
    ).exists()


def test_the_preview_lists_what_moves_and_the_confirmation_merges(admin_client, register, enrol):
    kept = register(email="")
    enrollment = enrol(full_name="Thandi Mokoena", email="thandi@example.org")
    upload_document(enrollment, id_type())
    other = enrollment.learner
    url = f"/learners/{kept.pk}/merge/{other.pk}/"
    text = admin_client.get(url).content.decode()
    assert enrollment.cohort.name in text
    assert "South African ID or passport" in text
    assert "The account thandi@example.org" in text
    assert "e-mail address" in text  # filled in
    assert "cannot be merged" not in text
    assert CohortEnrollment.objects.get(pk=enrollment.pk).learner == other  # nothing yet

    response = admin_client.post(url)
    assert response["Location"] == f"/learners/{kept.pk}/"
    assert CohortEnrollment.objects.get(pk=enrollment.pk).learner == kept


def test_the_preview_names_the_conflict_and_refuses(admin_client, enrol):
    kept = enrol(full_name="Thandi Mokoena").learner
    other = enrol(full_name="Thandi Mokoena").learner
    url = f"/learners/{kept.pk}/merge/{other.pk}/"
    text = admin_client.get(url).content.decode()
    assert "These records cannot be merged" in text
    assert "Both records have an account" in text
    response = admin_client.post(url)
    assert response.status_code == 200
    other.refresh_from_db()
    assert other.status != LearnerStatus.ARCHIVED


def test_the_choice_of_the_other_record_searches_the_others(admin_client, register):
    kept = register()
    other = register(first_name="Thandiwe", email="thandiwe@example.org")
    text = admin_client.get(f"/learners/{kept.pk}/merge/", {"q": "thandi"}).content.decode()
    assert f"/learners/{kept.pk}/merge/{other.pk}/" in text
    assert f"/learners/{kept.pk}/merge/{kept.pk}/" not in text


def test_students_may_not_see_the_merge_pages(client_of, student, register):
    kept, other = register(), register(first_name="Thandiwe")
    client = client_of(student)
    assert client.get(f"/learners/{kept.pk}/merge/{other.pk}/").status_code == 404
    assert client.post(f"/learners/{kept.pk}/merge/{other.pk}/").status_code == 404
    other.refresh_from_db()
    assert other.status == LearnerStatus.CANDIDATE
