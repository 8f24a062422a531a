"""A learner's access request: one action asks for it, a task builds the ZIP with everything
held about the person (every area, the files themselves, the ID number in clear, the bank
account masked), only those allowed download it, and each step is audited."""

import datetime
import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import SystemRole, User
from accounts.services import accounts_purge_due, user_delete
from audit.context import RequestContext, activate, deactivate
from audit.models import AuditEvent
from audit.services import audit_record
from cohorts.models import DocumentType
from delivery.models import Assessment, AssessmentResult, AttendanceStatus
from enrolments.models import DocumentStatus, StudentDocument
from finance.models import Invoice
from learners.models import ConsentKind, ConsentMethod, IdentityType, LearnerConsent
from learners.services import learner_national_id_set
from privacy.access.services import access_request_create, access_request_download
from privacy.access.tasks import access_requests_expire_all_institutions
from privacy.models import AccessRequest, AccessRequestStatus, DataProtectionSettings
from signing.models import Submission, SubmissionStatus
from signing.services.templates import template_create
from tests.factories import UserFactory
from tests.finance.grants_support import enrollment_of
from tests.finance.stipend_support import attended, bank_confirmed
from tests.finance.support import finance_world

pytestmark = pytest.mark.django_db

ID_NUMBER = "8001015009087"


def _stored(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


@pytest.fixture
def held(institution, admin, media):
    """A learner with something in every area."""
    world = finance_world(admin)
    placed = world.learner
    learner, enrollment = placed.learner, enrollment_of(placed)
    learner_national_id_set(learner, kind=IdentityType.SA_ID, number=ID_NUMBER)
    learner.save()
    StudentDocument.objects.create(
        enrollment=enrollment,
        learner=learner,
        document_type=DocumentType.objects.first(),
        file=_stored("documents/held-id.pdf", b"%PDF-1.4 the ID document"),
        original_name="my-id.pdf",
        size=24,
        content_type="application/pdf",
        sha256="0" * 64,
        status=DocumentStatus.VERIFIED,
    )
    template = template_create(
        title="Learnership agreement", body="<p>Terms</p>", signer_roles=["student"], actor=admin
    )
    Submission.objects.create(
        template_version=template.versions.get(),
        title="Learnership agreement",
        html="<p>Terms</p>",
        original_pdf=_stored("agreements/original.pdf", b"%PDF-1.4 original"),
        original_sha256="1" * 64,
        final_pdf=_stored("agreements/final.pdf", b"%PDF-1.4 the signed agreement"),
        final_sha256="2" * 64,
        status=SubmissionStatus.COMPLETED,
        subject_type="enrolments.cohortenrollment",
        subject_id=str(enrollment.pk),
        completed_at=timezone.now(),
    )
    attended(world, placed, datetime.date(2027, 3, 1), AttendanceStatus.LATE)
    Assessment.objects.create(
        enrolment=placed.course_enrollment,
        assessment_type="Summative",
        score=Decimal("81.50"),
        result=AssessmentResult.PASS,
        assessed_at=timezone.now(),
        assessor=world.workplace.assessor,
    )
    invoice = Invoice.objects.create(learner=learner, total=Decimal("4500.00"))
    # Issued as the numbering service would leave it (test setup, not the service).
    Invoice.objects.filter(pk=invoice.pk).update(status="issued", number="INV-HELD-1")
    bank_confirmed(world, placed, number="9876543210")
    LearnerConsent.objects.create(
        learner=learner,
        kind=ConsentKind.SPONSOR_SHARING,
        wording_version="v-held",
        given=True,
        method=ConsentMethod.PORTAL,
    )
    audit_record(actor=placed.user, action="held.acted", entity_type="test.thing", entity_id="1")
    return placed


def _fulfilled(learner, actor, capture) -> AccessRequest:
    with capture(execute=True):
        access_request = access_request_create(learner=learner, actor=actor)
    access_request.refresh_from_db()
    return access_request


def _zip(access_request: AccessRequest) -> zipfile.ZipFile:
    with default_storage.open(access_request.result_file_path, "rb") as stored:
        return zipfile.ZipFile(io.BytesIO(stored.read()))


def _area(archive: zipfile.ZipFile, key: str) -> list[dict]:
    return json.loads(archive.read(f"{key}.json"))


def test_the_export_holds_every_area(held, admin, eager, django_capture_on_commit_callbacks):
    access_request = _fulfilled(held.learner, admin, django_capture_on_commit_callbacks)

    assert access_request.status == AccessRequestStatus.READY
    archive = _zip(access_request)
    names = set(archive.namelist())
    areas = [
        "profile", "enrolments", "documents", "agreements", "attendance", "results",
        "placements", "finance", "consents", "audit",
    ]  # fmt: skip
    for key in areas:
        assert {f"{key}.json", f"{key}.csv"} <= names
        assert _area(archive, key), f"{key} is empty"
    [profile] = _area(archive, "profile")
    assert profile["ID or passport number"] == ID_NUMBER
    assert profile["Account e-mail address"] == held.user.email
    document = next(name for name in names if name.startswith("documents/"))
    assert archive.read(document) == b"%PDF-1.4 the ID document"
    agreement = next(name for name in names if name.startswith("agreements/"))
    assert archive.read(agreement) == b"%PDF-1.4 the signed agreement"
    assert _area(archive, "attendance")[0]["Status"] == AttendanceStatus.LATE
    assert _area(archive, "results")[0]["Score"] == "81.50"
    assert _area(archive, "placements")[0]["Placement"] == held.placement.pk
    finance = json.dumps(_area(archive, "finance"), ensure_ascii=False)
    assert "INV-HELD-1" in finance
    assert "•••• 3210" in finance
    assert "9876543210" not in archive.read("finance.csv").decode()
    assert "v-held" in {consent["Wording"] for consent in _area(archive, "consents")}
    assert "held.acted" in {event["What"] for event in _area(archive, "audit")}
    index = archive.read("index.html").decode()
    assert held.learner.full_name in index
    assert "http" not in index.lower().replace("http-equiv", "")  # nothing fetched from outside
    assert "<script" not in index


def test_the_request_and_its_fulfilment_are_audited_without_personal_values(
    held, admin, eager, django_capture_on_commit_callbacks
):
    access_request = _fulfilled(held.learner, admin, django_capture_on_commit_callbacks)

    events = AuditEvent.objects.filter(
        entity_type="privacy.accessrequest", entity_id=str(access_request.pk)
    )
    assert {event.action for event in events} == {
        "access_request.requested",
        "access_request.fulfilled",
    }
    produced = AuditEvent.objects.get(action="learner.national_id_produced", actor=admin)
    assert produced.new_values == {"purpose": "access request"}
    assert ID_NUMBER not in json.dumps([e.new_values for e in events])


def test_only_those_allowed_ask_and_download(
    held, admin, eager, django_capture_on_commit_callbacks
):
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    with pytest.raises(PermissionDenied):
        access_request_create(learner=held.learner, actor=trainer)
    access_request = _fulfilled(held.learner, admin, django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        access_request_download(access_request=access_request, actor=trainer)
    access_request_download(access_request=access_request, actor=admin)
    assert AuditEvent.objects.filter(action="access_request.downloaded", actor=admin).exists()


def test_a_failed_export_says_so(
    held, admin, eager, django_capture_on_commit_callbacks, monkeypatch
):
    def unreadable(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr("privacy.access.services.access_archive_write", unreadable)

    access_request = _fulfilled(held.learner, admin, django_capture_on_commit_callbacks)

    assert access_request.status == AccessRequestStatus.FAILED
    assert "could not be prepared" in access_request.error_message
    assert AuditEvent.objects.filter(
        action="access_request.failed", new_values={"error": "OSError"}
    ).exists()


def test_the_learner_page_asks_and_the_status_page_downloads(
    held, admin, client_of, eager, django_capture_on_commit_callbacks
):
    client = client_of(admin)
    page = client.get(f"/learners/{held.learner.pk}/").content.decode()
    assert "Export everything held about this person" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/access-requests/learners/{held.learner.pk}/")
    access_request = AccessRequest.objects.get(learner=held.learner)
    assert response.url == f"/access-requests/{access_request.pk}/"
    status = client.get(response.url).content.decode()
    assert "Download the ZIP" in status
    download = client.get(f"/access-requests/{access_request.pk}/download/")
    assert download["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).read("index.html")


def test_a_pending_request_is_polled(held, admin, client_of):
    access_request = AccessRequest.objects.create(learner=held.learner, requested_by=admin)
    client = client_of(admin)
    fragment = client.get(
        f"/access-requests/{access_request.pk}/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert "<html" not in fragment


def test_the_audit_section_names_only_the_learner(
    held, admin, eager, django_capture_on_commit_callbacks
):
    staff = UserFactory(email="staff.member@example.org", roles=[SystemRole.ADMIN])
    token = activate(RequestContext(correlation_id="t", ip_address="192.0.2.44", user_agent="UA"))
    try:
        with transaction.atomic():
            audit_record(actor=staff, action="held.changed", entity=held.learner)
            audit_record(actor=held.user, action="held.own", entity=held.learner)
    finally:
        deactivate(token)

    archive = _zip(_fulfilled(held.learner, admin, django_capture_on_commit_callbacks))

    events = {event["What"]: event for event in _area(archive, "audit")}
    assert events["held.changed"]["By (e-mail)"] == "Staff"
    assert events["held.changed"]["From (IP address)"] == ""
    assert events["held.own"]["By (e-mail)"] == held.user.email
    assert events["held.own"]["From (IP address)"] == "192.0.2.44"
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"staff.member@example.org" not in everything


def test_file_names_from_free_text_stay_inside_their_folder(
    held, admin, eager, django_capture_on_commit_callbacks
):
    Submission.objects.update(title="a/../../x")
    StudentDocument.objects.update(original_name="../../etc/passwd")

    archive = _zip(_fulfilled(held.learner, admin, django_capture_on_commit_callbacks))

    files = [name for name in archive.namelist() if "/" in name]
    assert files
    for name in files:
        folder, _, rest = name.partition("/")
        assert folder in {"documents", "agreements"}
        assert "/" not in rest
        assert ".." not in rest.split(".", 1)[0]
    assert any(name.startswith("agreements/") and name.endswith("-a....x.pdf") for name in files)


def test_the_zip_goes_when_the_account_is_purged(
    held, admin, eager, django_capture_on_commit_callbacks
):
    access_request = _fulfilled(held.learner, admin, django_capture_on_commit_callbacks)
    path = access_request.result_file_path
    user_delete(user=held.user, actor=admin)
    User.objects.filter(pk=held.user.pk).update(deleted_at=timezone.now() - timedelta(days=60))

    with django_capture_on_commit_callbacks(execute=True):
        accounts_purge_due(dry_run=False)

    access_request.refresh_from_db()
    assert access_request.result_file_path == ""
    assert not default_storage.exists(path)
    with pytest.raises(PermissionDenied):
        access_request_download(access_request=access_request, actor=admin)


def test_an_expired_zip_is_deleted_by_the_daily_sweep(
    institution, held, admin, eager, django_capture_on_commit_callbacks
):
    DataProtectionSettings.objects.update_or_create(pk=1, defaults={"report_expiry_days": 3})
    old = _fulfilled(held.learner, admin, django_capture_on_commit_callbacks)
    old_path = old.result_file_path
    AccessRequest.objects.filter(pk=old.pk).update(fulfilled_at=timezone.now() - timedelta(days=4))
    recent = _fulfilled(held.learner, admin, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        access_requests_expire_all_institutions.apply()
    connection.set_tenant(institution)

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.result_file_path == ""
    assert not default_storage.exists(old_path)
    assert recent.result_file_path
    assert default_storage.exists(recent.result_file_path)
    assert AuditEvent.objects.filter(
        action="access_request.file_deleted",
        entity_id=str(old.pk),
        new_values={"reason": "expired"},
    ).exists()
    assert "has expired" in render_to_string(
        "privacy/access/_status.html", {"access_request": old, "pending": False}
    )
