"""Documents belong to the learner: a returning student's verified documents count for their
next enrolment without a new upload, unless the document has expired or the cohort asks for a
fresh copy; one waiting for review, or rejected, in one enrolment shows in the others."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cohorts.imports.validation import rows_check
from cohorts.imports.writing import enrollments_import
from cohorts.models import DocumentType
from cohorts.services import cohort_update
from enrolments.models import (
    CohortEnrollment,
    DocumentsStatus,
    StudentDocument,
    VerificationState,
)
from enrolments.selectors import (
    EnrollmentStep,
    StepStatus,
    enrollment_document_steps,
    enrollment_list_for_cohort,
)
from enrolments.services import enrollment_document_add
from enrolments.uploads import document_upload_check
from tests.enrolments.conftest import id_type, matric_type, upload_document
from tests.factories import CohortFactory
from tests.files import PDF_BYTES
from tests.imports.support import student_row
from verification.services import document_review

pytestmark = pytest.mark.django_db


def cv_type() -> DocumentType:
    return DocumentType.objects.get(name="CV")


def _step(enrollment: CohortEnrollment, document_type: DocumentType) -> EnrollmentStep:
    enrollment = CohortEnrollment.objects.select_related("cohort", "learner").get(pk=enrollment.pk)
    return next(
        step
        for step in enrollment_document_steps(enrollment)
        if step.document_type == document_type
    )


def test_a_verified_document_counts_for_the_next_cohort_without_a_new_upload(returning, admin):
    first, make = returning
    second = make(cv_type())

    for document_type in (id_type(), matric_type()):
        step = _step(second, document_type)
        assert step.status == StepStatus.DONE
        assert step.reused
        assert step.document.enrollment == first
    assert _step(second, cv_type()).status == StepStatus.TODO
    assert second.document_verification_state == VerificationState.PENDING

    # Only the new document type is asked for; once it is verified, so is the enrolment.
    cv = upload_document(second, cv_type())
    document_review(document=cv, reviewer=admin, approve=True)
    second.refresh_from_db()
    assert second.document_verification_state == VerificationState.VERIFIED
    assert list(second.documents.values_list("document_type", flat=True)) == [cv_type().pk]
    [row] = enrollment_list_for_cohort(cohort=second.cohort)
    assert row.documents_status == DocumentsStatus.APPROVED


def test_a_returning_learner_is_verified_at_once_when_every_document_is_reused(returning):
    _first, make = returning
    second = make()
    assert second.document_verification_state == VerificationState.VERIFIED


def test_a_verified_document_is_not_uploaded_again(returning):
    _first, make = returning
    second = make()
    with pytest.raises(ValidationError, match="already verified"):
        upload_document(second, id_type())


def test_an_expired_document_is_not_used_again(returning):
    first, make = returning
    StudentDocument.objects.filter(enrollment=first, document_type=id_type()).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    second = make()

    step = _step(second, id_type())
    assert step.status == StepStatus.TODO
    assert step.expired
    assert second.document_verification_state == VerificationState.PENDING
    [row] = enrollment_list_for_cohort(cohort=second.cohort)
    assert row.documents_status == DocumentsStatus.NOT_UPLOADED

    # Asked for again: the new upload is the learner's current one.
    new = upload_document(second, id_type())
    assert _step(second, id_type()).document == new
    assert not StudentDocument.objects.get(enrollment=first, document_type=id_type()).is_current


def test_an_expiry_date_is_kept_and_must_be_in_the_future(enrol):
    enrollment = enrol()
    checked = document_upload_check(upload=_pdf_upload(), document_type=id_type())
    with pytest.raises(ValidationError, match="This date has passed"):
        enrollment_document_add(
            enrollment=enrollment,
            actor=enrollment.user,
            document=checked.document(document_type=id_type(), expires_on=timezone.localdate()),
        )
    in_a_year = timezone.localdate() + datetime.timedelta(days=365)
    document = upload_document(enrollment, id_type())
    assert document.expires_on is None  # an ID card does not expire
    stored = enrollment_document_add(
        enrollment=enrollment,
        actor=enrollment.user,
        document=document_upload_check(upload=_pdf_upload(), document_type=id_type()).document(
            document_type=id_type(), expires_on=in_a_year
        ),
    )
    assert stored.expires_on == in_a_year
    # A type that does not expire keeps no date.
    matric = enrollment_document_add(
        enrollment=enrollment,
        actor=enrollment.user,
        document=document_upload_check(upload=_pdf_upload(), document_type=matric_type()).document(
            document_type=matric_type(), expires_on=in_a_year
        ),
    )
    assert matric.expires_on is None


def _pdf_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("document.pdf", PDF_BYTES, content_type="application/pdf")


def test_a_cohort_asking_for_a_fresh_copy_asks_again(returning, admin):
    first, make = returning
    second = make(fresh=(matric_type(),))

    assert _step(second, id_type()).status == StepStatus.DONE
    matric = _step(second, matric_type())
    assert (matric.status, matric.document, matric.fresh) == (StepStatus.TODO, None, True)
    assert second.document_verification_state == VerificationState.PENDING
    [row] = enrollment_list_for_cohort(cohort=second.cohort)
    assert row.documents_status == DocumentsStatus.NOT_UPLOADED

    new = upload_document(second, matric_type())
    assert _step(second, matric_type()).status == StepStatus.PENDING
    # The new copy is the learner's current one: the first enrolment, still open, follows it.
    assert _step(first, matric_type()).document == new


def test_a_rejection_in_one_enrolment_shows_in_the_other(enrol, admin):
    first = enrol(email="twice@example.org")
    second = enrol(email="twice@example.org")
    document = upload_document(first, id_type())

    # Waiting for review in the first: the second shows it too, and asks for no upload.
    step = _step(second, id_type())
    assert (step.status, step.document, step.reused) == (StepStatus.PENDING, document, True)

    document_review(document=document, reviewer=admin, approve=False, reason="Blurred.")
    second.refresh_from_db()
    assert second.document_verification_state == VerificationState.REJECTED
    step = _step(second, id_type())
    assert (step.status, step.document.rejection_reason) == (StepStatus.REJECTED, "Blurred.")
    [row] = enrollment_list_for_cohort(cohort=second.cohort)
    assert row.documents_status == DocumentsStatus.REJECTED

    # A new version sent from the second counts for the first as well.
    new = upload_document(second, id_type())
    first.refresh_from_db()
    assert first.document_verification_state == VerificationState.PENDING
    assert _step(first, id_type()).document == new


def test_an_approval_in_one_enrolment_refreshes_the_other(enrol, admin):
    first = enrol(email="twice@example.org")
    second = enrol(email="twice@example.org")
    for document_type in (id_type(), matric_type()):
        document = upload_document(first, document_type)
        document_review(document=document, reviewer=admin, approve=True)
    second.refresh_from_db()
    assert second.document_verification_state == VerificationState.VERIFIED


def test_a_fresh_document_must_be_a_required_one(admin):
    cohort = CohortFactory(required_document_types=[id_type()])
    with pytest.raises(ValidationError, match="Only a required document"):
        cohort_update(cohort=cohort, actor=admin, changes={"fresh_document_types": [cv_type()]})
    cohort_update(cohort=cohort, actor=admin, changes={"fresh_document_types": [id_type()]})
    assert list(cohort.fresh_document_types.all()) == [id_type()]


def test_an_imported_returning_learners_verified_documents_count_at_once(admin, returning):
    first, _make = returning
    cohort = CohortFactory(active=True, required_document_types=[id_type(), matric_type()])
    rows = rows_check(
        cohort=cohort, rows=[(2, student_row(email=first.user.email, id_number=""))]
    ).valid

    enrollments_import(cohort=cohort, actor=admin, rows=rows)

    enrollment = CohortEnrollment.objects.get(cohort=cohort)
    assert enrollment.learner == first.learner
    assert enrollment.document_verification_state == VerificationState.VERIFIED
