"""Enrolments fixtures: students enrolled through enrollment_invite who have set a password (as
after accepting the invitation), and their uploads."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cohorts.models import DocumentType
from enrolments.models import CohortEnrollment, StudentDocument
from enrolments.services import (
    enrollment_details_save,
    enrollment_document_add,
    enrollment_invite,
)
from enrolments.uploads import document_upload_check
from tests.enrolments.closed import close  # noqa: F401 (a fixture)
from tests.factories import PASSWORD, CohortFactory
from tests.files import PDF_BYTES
from tests.learners.support import details_of
from verification.services import document_review


def id_type() -> DocumentType:
    return DocumentType.objects.get(name="South African ID or passport")


def matric_type() -> DocumentType:
    return DocumentType.objects.get(name="Matric certificate")


def upload_url(enrollment: CohortEnrollment, document_type: DocumentType) -> str:
    return reverse("enrolments:document_upload", args=[enrollment.pk, document_type.pk])


def upload_document(
    enrollment: CohortEnrollment,
    document_type: DocumentType,
    name: str = "document.pdf",
    content: bytes = PDF_BYTES,
    content_type: str = "application/pdf",
) -> StudentDocument:
    """Upload as the student does: the file checked as the upload page checks it (which names,
    sizes and hashes it), then stored through the enrolment service. `content_type` is the type
    the browser declares."""
    checked = document_upload_check(
        upload=SimpleUploadedFile(name, content, content_type=content_type),
        document_type=document_type,
    )
    return enrollment_document_add(
        enrollment=enrollment,
        actor=enrollment.user,
        document=checked.document(document_type=document_type),
    )


@pytest.fixture(autouse=True)
def _media(media) -> Path:
    """Uploads land in a directory of the test's own, so that "nothing stored" can be checked."""
    return media


@pytest.fixture
def media_files(_media, institution) -> Callable[[], list]:
    """Every file stored under the institution's prefix."""

    def files() -> list:
        root = _media / institution.schema_name
        return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []

    return files


@pytest.fixture
def enrol(institution, admin) -> Callable[..., CohortEnrollment]:
    """Enrol a new student in a cohort (a fresh active one by default); they have set their
    password."""
    counter = iter(range(1, 10_000))

    def make(cohort=None, email: str | None = None, full_name: str = "Sipho Student", **kwargs):
        enrollment = enrollment_invite(
            cohort=cohort or CohortFactory(active=True),
            actor=admin,
            email=email or f"student{next(counter)}@example.org",
            full_name=full_name,
            **kwargs,
        )
        student = enrollment.user
        student.set_password(PASSWORD)
        student.save(update_fields=["password"])
        return enrollment

    return make


@pytest.fixture
def returning(enrol, admin):
    """A student whose ID and matric were verified in a first cohort, enrolled again in a second
    (made by `make`, asking for ID and matric and whatever else is given)."""
    first = enrol(email="returning@example.org")
    enrollment_details_save(enrollment=first, actor=first.user, details=details_of())
    for document_type in (id_type(), matric_type()):
        document_review(
            document=upload_document(first, document_type), reviewer=admin, approve=True
        )

    def make(*also: DocumentType, fresh: tuple[DocumentType, ...] = ()) -> CohortEnrollment:
        cohort = CohortFactory(
            active=True, required_document_types=[id_type(), matric_type(), *also]
        )
        cohort.fresh_document_types.set(fresh)
        return enrol(cohort=cohort, email="returning@example.org")

    return first, make
