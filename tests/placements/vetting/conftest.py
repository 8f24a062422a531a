"""Vetting fixtures: a learner of a programme that requires vetting, enrolled through the
services, evidence checked as the upload page checks it, and uploads landing in a folder of
the test's own."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from academics.models import Programme
from accounts.models import User
from enrolments.uploads import document_upload_check
from learners.models import Learner
from placements.models import (
    ProgrammeVettingRequirement,
    VettingEvidence,
    VettingRecord,
    VettingType,
)
from placements.services.vetting import (
    evidence_document_type,
    vetting_evidence_add,
    vetting_record_open,
)
from tests.delivery.runs_support import enrol
from tests.factories import CohortFactory, ProgrammeFactory
from tests.files import PDF_BYTES
from tests.uploads.conftest import fake_clamd  # noqa: F401 (a fixture for the scanning tests)


def vetting_type(code: str) -> VettingType:
    return VettingType.objects.get(code=code)


@pytest.fixture(autouse=True)
def _media(media) -> Path:
    return media


@pytest.fixture
def media_files(_media, institution) -> Callable[[], list[Path]]:
    """Every file stored under the institution's prefix."""

    def files() -> list[Path]:
        root = _media / institution.schema_name
        return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []

    return files


@pytest.fixture
def programme(institution) -> Programme:
    """A programme that requires identity and a police clearance."""
    programme = ProgrammeFactory(name="Teaching Internship")
    for code in ("identity", "police_clearance"):
        ProgrammeVettingRequirement.objects.create(
            programme=programme, vetting_type=vetting_type(code)
        )
    return programme


@pytest.fixture
def learner(admin, programme) -> Learner:
    """A learner with an account, enrolled in a cohort of `programme`."""
    cohort = CohortFactory(active=True, programme=programme)
    return enrol(admin, cohort, full_name="Thandi Learner").learner


def evidence_upload(name: str = "clearance.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture
def evidence_add(admin) -> Callable[..., VettingEvidence]:
    """Evidence for a record, checked and stored as the upload page does it (no scanner)."""

    def add(record: VettingRecord, content: bytes = PDF_BYTES) -> VettingEvidence:
        checked = document_upload_check(
            upload=evidence_upload(content=content),
            document_type=evidence_document_type(record.vetting_type),
        )
        return vetting_evidence_add(
            actor=admin, record=record, checked=checked, scan_status="not_scanned"
        )

    return add


@pytest.fixture
def opened(admin, learner) -> Callable[..., VettingRecord]:
    def open_record(code: str = "police_clearance", who: Learner | None = None) -> VettingRecord:
        return vetting_record_open(
            actor=admin, learner=who or learner, vetting_type=vetting_type(code)
        )

    return open_record


def detail_url(record: VettingRecord) -> str:
    return reverse("placements:vetting_detail", args=[record.pk])


def staff_without_vetting() -> User:
    """A trainer: signed in, but without placements.manage_vetting."""
    from accounts.models import SystemRole
    from tests.factories import UserFactory

    return UserFactory(roles=[SystemRole.TRAINER])
