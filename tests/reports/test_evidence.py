"""The cohort evidence pack: what the ZIP holds, the sealed manifest listing every file's
SHA-256, who may build and download it, and the checks the verify page makes."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import Role, SystemRole
from accounts.roles import permissions_for
from audit.models import AuditEvent
from cohorts.models import CohortState
from reports.evidence.manifest import manifest_check, manifest_entries
from reports.evidence.services import evidence_pack_build, evidence_pack_request
from reports.models import EvidencePack, ExecutionStatus
from signing.models import InstitutionCertificate
from tests.factories import CohortFactory, UserFactory
from tests.reports.evidence_support import ID_SCAN

pytestmark = pytest.mark.django_db


def _built(world, admin, django_capture_on_commit_callbacks) -> EvidencePack:
    with django_capture_on_commit_callbacks(execute=True):
        pack = evidence_pack_request(cohort=world.cohort, actor=admin)
    pack.refresh_from_db()
    return pack


def _zip(pack: EvidencePack) -> dict[str, bytes]:
    with pack.file.open("rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _certificates() -> list[InstitutionCertificate]:
    return list(InstitutionCertificate.objects.all())


def test_the_pack_holds_every_part_and_the_manifest_lists_each_file_with_its_sha256(
    evidence_world, admin, eager, django_capture_on_commit_callbacks
):
    pack = _built(evidence_world, admin, django_capture_on_commit_callbacks)
    assert pack.status == ExecutionStatus.COMPLETED, pack.error_message
    files = _zip(pack)
    world = evidence_world
    agreement = f"agreements/agreement-{world.agreement.pk}-learnership-agreement.pdf"
    document = (
        f"documents/enrolment-{world.enrollment.pk}-south-african-id-or-passport-"
        f"{world.document.pk}.pdf"
    )
    assert set(files) == {
        "manifest.pdf",
        agreement,
        document,
        "attendance/attendance.csv",
        "results/results.csv",
        "certificates/certificate-EVID-0001.pdf",
        "audit/audit-events.csv",
    }
    assert files[agreement] == world.agreement_pdf
    assert files[document] == ID_SCAN
    assert files["certificates/certificate-EVID-0001.pdf"] == world.certificate_pdf
    assert "Thandi Mokoena" in files["attendance/attendance.csv"].decode()
    assert "Present" in files["attendance/attendance.csv"].decode()
    assert "Summative" in files["results/results.csv"].decode()
    assert "cohort.completed_forcibly" in files["audit/audit-events.csv"].decode()

    manifest = manifest_entries(files["manifest.pdf"])
    assert manifest is not None
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    assert listed == {
        name: hashlib.sha256(content).hexdigest()
        for name, content in files.items()
        if name != "manifest.pdf"
    }
    assert manifest["empty_parts"] == []
    assert pack.files_count == len(files)
    assert pack.manifest_sha256 == hashlib.sha256(files["manifest.pdf"]).hexdigest()
    assert manifest_check(files["manifest.pdf"], certificates=_certificates()).ok


def test_empty_parts_are_named_in_the_manifest(
    institution, admin, media, eager, django_capture_on_commit_callbacks
):
    cohort = CohortFactory(active=True)
    from cohorts.services import cohort_complete

    cohort_complete(cohort=cohort, actor=admin, force_reason="No one enrolled.")
    with django_capture_on_commit_callbacks(execute=True):
        pack = evidence_pack_request(cohort=cohort, actor=admin)
    pack.refresh_from_db()
    assert pack.status == ExecutionStatus.COMPLETED
    manifest = manifest_entries(_zip(pack)["manifest.pdf"])
    assert manifest is not None
    assert {part["part"] for part in manifest["empty_parts"]} == {
        "agreements",
        "documents",
        "attendance",
        "results",
        "certificates",
    }
    assert [entry["path"] for entry in manifest["files"]] == ["audit/audit-events.csv"]


def test_a_changed_file_is_refused_and_a_listed_one_accepted(
    evidence_world, admin, eager, django_capture_on_commit_callbacks
):
    files = _zip(_built(evidence_world, admin, django_capture_on_commit_callbacks))
    manifest = files["manifest.pdf"]
    name = "results/results.csv"
    listed = manifest_check(
        manifest, certificates=_certificates(), file_name="results.csv", file_content=files[name]
    )
    assert (listed.ok, listed.file_listed, listed.file_path) == (True, True, name)
    changed = manifest_check(
        manifest,
        certificates=_certificates(),
        file_name="results.csv",
        file_content=files[name].replace(b"78.00", b"98.00"),
    )
    assert changed.file_listed is False
    assert "was changed after the pack was built" in changed.file_reason
    stranger = manifest_check(
        manifest, certificates=_certificates(), file_name="other.txt", file_content=b"hello"
    )
    assert stranger.file_listed is False
    assert "not part of this pack" in stranger.file_reason


def test_a_changed_manifest_fails_its_seal(
    evidence_world, admin, eager, django_capture_on_commit_callbacks
):
    manifest = bytearray(
        _zip(_built(evidence_world, admin, django_capture_on_commit_callbacks))["manifest.pdf"]
    )
    position = manifest.index(b"stream") + 20
    manifest[position] = (manifest[position] + 1) % 256
    check = manifest_check(bytes(manifest), certificates=_certificates())
    assert not check.ok
    assert "changed after it was sealed" in check.reason


def test_a_manifest_list_replaced_in_an_update_appended_after_the_seal_is_refused(
    evidence_world, admin, eager, django_capture_on_commit_callbacks
):
    """An incremental update keeps every sealed byte (the seal itself still verifies) while
    pointing the attached list at another: the seal must cover the whole file."""
    from pyhanko.pdf_utils.generic import NameObject, StreamObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    sealed = _zip(_built(evidence_world, admin, django_capture_on_commit_callbacks))["manifest.pdf"]
    forged_list = manifest_entries(sealed)
    assert forged_list is not None
    forged_list["files"][0]["sha256"] = hashlib.sha256(b"a forged file").hexdigest()
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec_reference = names.raw_get(1)
    spec = spec_reference.get_object()
    spec["/EF"][NameObject("/F")] = writer.add_object(
        StreamObject(stream_data=json.dumps(forged_list).encode())
    )
    writer.mark_update(spec_reference)
    output = io.BytesIO()
    writer.write(output)
    forged = output.getvalue()
    assert forged.startswith(sealed)
    assert manifest_entries(forged) == forged_list  # the update does replace the list

    check = manifest_check(
        forged,
        certificates=_certificates(),
        file_name="forged.txt",
        file_content=b"a forged file",
    )
    assert not check.ok
    assert "changed after it was sealed" in check.reason
    assert check.file_listed is None


def test_a_pdf_we_did_not_seal_and_a_file_that_is_not_a_pdf_are_told_apart(institution):
    from signing.documents import html_to_pdf

    unsealed = manifest_check(html_to_pdf("<p>Manifest</p>"), certificates=_certificates())
    assert not unsealed.ok
    assert "not sealed by us" in unsealed.reason
    not_pdf = manifest_check(b"PK\x03\x04 a zip", certificates=_certificates())
    assert not_pdf.reason == "The manifest is not a PDF."


def test_an_active_cohort_has_no_pack(institution, admin):
    cohort = CohortFactory(active=True)
    with pytest.raises(ValidationError, match="once a cohort is completed"):
        evidence_pack_request(cohort=cohort, actor=admin)
    assert not EvidencePack.objects.exists()


def test_someone_who_does_not_manage_cohorts_is_refused_and_the_refusal_recorded(
    evidence_world,
):
    verifier = UserFactory(roles=[SystemRole.VERIFIER])
    with pytest.raises(PermissionDenied):
        evidence_pack_request(cohort=evidence_world.cohort, actor=verifier)
    refusal = AuditEvent.objects.get(action="permission.denied", actor=verifier)
    assert refusal.entity_id == "reports.evidence_pack_request"
    assert not EvidencePack.objects.exists()


def test_a_cohort_manager_not_given_the_cohort_cannot_see_build_or_download_its_pack(
    evidence_world, admin, eager, django_capture_on_commit_callbacks, client_of
):
    pack = _built(evidence_world, admin, django_capture_on_commit_callbacks)
    role = Role.objects.create(name="Cohort coordinator")
    role.permissions.set(permissions_for(["cohorts.manage_cohorts"]))
    coordinator = UserFactory(roles=[role])
    client = client_of(coordinator)
    cohort = evidence_world.cohort
    assert client.get(reverse("evidence:cohort", args=[cohort.pk])).status_code == 404
    assert client.get(reverse("evidence:pack", args=[pack.pk])).status_code == 404
    assert client.get(reverse("evidence:download", args=[pack.pk])).status_code == 404
    assert client.post(reverse("evidence:build", args=[cohort.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        evidence_pack_request(cohort=cohort, actor=coordinator)
    assert EvidencePack.objects.count() == 1


def test_the_admin_downloads_the_pack_and_the_download_is_audited(
    evidence_world, admin, admin_client, eager, django_capture_on_commit_callbacks
):
    pack = _built(evidence_world, admin, django_capture_on_commit_callbacks)
    response = admin_client.get(reverse("evidence:download", args=[pack.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    assert zipfile.ZipFile(io.BytesIO(body)).namelist()
    event = AuditEvent.objects.get(action="evidence_pack.downloaded")
    assert event.new_values == {"cohort": evidence_world.cohort.pk}
    built = AuditEvent.objects.get(action="evidence_pack.built")
    assert "Thandi" not in str(built.new_values)


def test_building_twice_is_harmless(
    evidence_world, admin, eager, django_capture_on_commit_callbacks
):
    pack = _built(evidence_world, admin, django_capture_on_commit_callbacks)
    again = evidence_pack_build(pack_id=pack.pk)
    assert again.file.name == pack.file.name
    assert AuditEvent.objects.filter(action="evidence_pack.built").count() == 1


def test_the_cohort_page_offers_the_pack_once_completed(evidence_world, admin_client):
    page = admin_client.get(reverse("cohorts:dashboard", args=[evidence_world.cohort.pk]))
    assert reverse("evidence:cohort", args=[evidence_world.cohort.pk]) in page.content.decode()
    assert evidence_world.cohort.state == CohortState.COMPLETED


@pytest.mark.parametrize("missing", ["verification.review_documents", "audit.view_audit_trail"])
def test_a_cohort_manager_who_may_not_see_documents_or_the_audit_trail_is_refused_the_pack(
    missing, evidence_world, admin, eager, django_capture_on_commit_callbacks, client_of
):
    pack = _built(evidence_world, admin, django_capture_on_commit_callbacks)
    role = Role.objects.create(name="Cohort coordinator")
    codes = {
        "cohorts.manage_cohorts",
        "cohorts.access_all_cohorts",
        "verification.review_documents",
        "audit.view_audit_trail",
    }
    role.permissions.set(permissions_for(sorted(codes - {missing})))
    coordinator = UserFactory(roles=[role])
    client = client_of(coordinator)

    packs_page = client.get(reverse("evidence:cohort", args=[evidence_world.cohort.pk]))
    assert "also needs the permissions to review documents" in packs_page.content.decode()
    assert reverse("evidence:download", args=[pack.pk]) not in packs_page.content.decode()
    assert client.get(reverse("evidence:download", args=[pack.pk])).status_code == 404
    assert (
        client.post(reverse("evidence:build", args=[evidence_world.cohort.pk])).status_code == 404
    )
    with pytest.raises(PermissionDenied):
        evidence_pack_request(cohort=evidence_world.cohort, actor=coordinator)
    assert not AuditEvent.objects.filter(action="evidence_pack.downloaded").exists()
    assert set(
        AuditEvent.objects.filter(action="permission.denied", actor=coordinator).values_list(
            "entity_id", flat=True
        )
    ) == {"reports.evidence_pack_download", "reports.evidence_pack_request"}
