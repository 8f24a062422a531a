"""The evidence pack's pages: the public verify page (rate limited, size limited, CSRF-aware,
with a clear message for each way a check fails), the pack's progress polled with htmx, and a
pack whose manifest cannot be time-stamped."""

import io
import zipfile

import pytest
from django.urls import reverse

from reports.evidence.services import evidence_pack_request
from reports.evidence_views import MAX_VERIFY_BYTES, MULTIPART_OVERHEAD, VERIFY_RATE
from reports.models import EvidencePack, ExecutionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def visitor(institution, client_for, unique_ip):
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    return client


def _verify(client, manifest: bytes, document: tuple[str, bytes] | None = None):
    data = {"manifest": _upload("manifest.pdf", manifest)}
    if document:
        data["document"] = _upload(*document)
    return client.post(reverse("evidence:verify"), data)


def _upload(name: str, content: bytes):
    upload = io.BytesIO(content)
    upload.name = name
    return upload


@pytest.fixture
def built(evidence_world, admin, eager, django_capture_on_commit_callbacks) -> dict[str, bytes]:
    with django_capture_on_commit_callbacks(execute=True):
        pack = evidence_pack_request(cohort=evidence_world.cohort, actor=admin)
    pack.refresh_from_db()
    with pack.file.open("rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_verify_page_is_public_and_confirms_a_listed_file(built, visitor):
    assert visitor.get(reverse("evidence:verify")).status_code == 200
    results = ("results.csv", built["results/results.csv"])
    response = _verify(visitor, built["manifest.pdf"], results)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Genuine manifest" in page
    assert "Analytics 2027" in page
    assert "listed in the manifest as results/results.csv" in page


def test_the_verify_page_refuses_a_changed_file_and_a_stranger(built, visitor):
    changed = _verify(
        visitor,
        built["manifest.pdf"],
        ("results.csv", built["results/results.csv"].replace(b"78.00", b"98.00")),
    )
    assert changed.status_code == 422
    assert "was changed after the pack was built" in changed.content.decode()
    stranger = _verify(visitor, built["manifest.pdf"], ("notes.txt", b"not in the pack"))
    assert stranger.status_code == 422
    assert "not part of this pack" in stranger.content.decode()


def test_the_verify_page_says_what_is_wrong_with_the_manifest(built, visitor):
    not_pdf = _verify(visitor, b"PK\x03\x04 a zip")
    assert not_pdf.status_code == 422
    assert "The manifest is not a PDF." in not_pdf.content.decode()
    altered = bytearray(built["manifest.pdf"])
    position = altered.index(b"stream") + 20
    altered[position] = (altered[position] + 1) % 256
    response = _verify(visitor, bytes(altered))
    assert response.status_code == 422
    assert "changed after it was sealed" in response.content.decode()
    # A sealed PDF of ours that is not a manifest (the pack's sealed agreement).
    agreement = next(content for name, content in built.items() if name.startswith("agreements/"))
    response = _verify(visitor, agreement)
    assert "not an evidence pack&#x27;s manifest" in response.content.decode()


@pytest.fixture
def csrf_visitor(visitor):
    """A browser as a stranger's script is: it sends no CSRF token."""
    visitor.handler.enforce_csrf_checks = True
    return visitor


def test_the_verify_page_is_rate_limited_before_the_csrf_check_reads_the_body(csrf_visitor):
    for _ in range(int(VERIFY_RATE.split("/")[0])):
        assert _verify(csrf_visitor, b"%PDF-1.7 not really").status_code == 403
    limited = _verify(csrf_visitor, b"%PDF-1.7 not really")
    assert limited.status_code == 429
    assert "Too many checks from your address" in limited.content.decode()


def test_the_verify_page_refuses_a_body_larger_than_it_accepts_before_reading_it(csrf_visitor):
    response = csrf_visitor.post(
        reverse("evidence:verify"),
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(2 * MAX_VERIFY_BYTES + MULTIPART_OVERHEAD + 1),
    )
    assert response.status_code == 413
    assert "larger than anything an evidence pack holds" in response.content.decode()


def test_the_verify_page_checks_csrf(institution, client_for, unique_ip):
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    client.handler.enforce_csrf_checks = True
    assert _verify(client, b"%PDF-1.7").status_code == 403


def test_the_pack_page_polls_while_building_and_reloads_when_done(
    evidence_world, admin, admin_client
):
    pack = evidence_pack_request(cohort=evidence_world.cohort, actor=admin)  # not run: waiting
    url = reverse("evidence:pack", args=[pack.pk])
    page = admin_client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "Waiting for its turn" in page
    partial = admin_client.get(url, HTTP_HX_REQUEST="true")
    assert "pack-status" in partial.content.decode()
    from reports.evidence.services import evidence_pack_build

    evidence_pack_build(pack_id=pack.pk)
    done = admin_client.get(url, HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    assert "Download the pack (ZIP)" in admin_client.get(url).content.decode()


def test_asking_twice_while_building_queues_one_pack(evidence_world, admin):
    first = evidence_pack_request(cohort=evidence_world.cohort, actor=admin)
    second = evidence_pack_request(cohort=evidence_world.cohort, actor=admin)
    assert first.pk == second.pk
    assert EvidencePack.objects.count() == 1


def test_a_down_time_stamp_authority_fails_the_pack_after_its_retries_with_a_clear_message(
    evidence_world, admin, admin_client, eager, tsa, django_capture_on_commit_callbacks
):
    tsa.stop()
    with django_capture_on_commit_callbacks(execute=True):
        pack = evidence_pack_request(cohort=evidence_world.cohort, actor=admin)
    pack.refresh_from_db()
    assert pack.status == ExecutionStatus.FAILED
    assert "time-stamp authority did not answer" in pack.error_message
    assert not pack.file
    page = admin_client.get(reverse("evidence:pack", args=[pack.pk])).content.decode()
    assert "time-stamp authority did not answer" in page
    assert "Build it again" in page


def test_the_cohort_page_of_packs_is_empty_at_first(evidence_world, admin_client):
    page = admin_client.get(reverse("evidence:cohort", args=[evidence_world.cohort.pk]))
    assert "No evidence pack has been built for this cohort yet." in page.content.decode()
    assert "Build an evidence pack" in page.content.decode()
