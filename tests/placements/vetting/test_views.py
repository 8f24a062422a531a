"""Vetting's pages: who may see them, the list's filters and pages, opening a check from a
learner's page, the evidence upload (refused files leave nothing behind; a good one is stored
under a random name and served only to people who manage vetting), the decisions with their
confirmations, the types and programme pages, and a learner's own read-only view."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from learners.models import Learner
from placements.models import (
    ProgrammeVettingRequirement,
    VettingEvidence,
    VettingRecord,
    VettingStatus,
)
from placements.services.vetting import vetting_record_clear, vetting_record_fail
from tests.delivery.runs_support import enrol
from tests.factories import CohortFactory
from tests.files import PDF_BYTES, png_bytes
from tests.uploads.hostile import HTML_PAGE, encrypted_pdf

from .conftest import detail_url, staff_without_vetting, vetting_type

pytestmark = pytest.mark.django_db

IN_A_YEAR = timezone.localdate() + datetime.timedelta(days=365)


def upload(client, record: VettingRecord, name: str, content: bytes):
    return client.post(
        reverse("placements:vetting_evidence_upload", args=[record.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )


def text(response) -> str:
    return " ".join(response.content.decode().split())


# --- Who may see what -------------------------------------------------------------------------


def test_people_without_manage_vetting_get_not_found(client_of, opened, evidence_add, programme):
    record = opened()
    evidence = evidence_add(record)
    trainer_client = client_of(staff_without_vetting())
    urls = [
        reverse("placements:vetting_list"),
        reverse("placements:vetting_types"),
        reverse("placements:learner_vetting", args=[record.learner_id]),
        detail_url(record),
        reverse("placements:vetting_clear", args=[record.pk]),
        reverse("placements:vetting_fail", args=[record.pk]),
        reverse("placements:vetting_evidence_file", args=[record.pk, evidence.pk]),
        reverse("placements:programme_vetting", args=[programme.pk]),
    ]
    for url in urls:
        assert trainer_client.get(url).status_code == 404, url
    response = trainer_client.post(
        reverse("placements:vetting_fail", args=[record.pk]), {"reason": "no"}
    )
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.status == VettingStatus.PENDING


def test_the_learner_cannot_reach_staff_pages_or_the_evidence(
    client_of, opened, evidence_add, learner
):
    record = opened()
    evidence = evidence_add(record)
    student = client_of(learner.user)
    assert student.get(detail_url(record)).status_code == 404
    file_url = reverse("placements:vetting_evidence_file", args=[record.pk, evidence.pk])
    assert student.get(file_url).status_code == 404


# --- The list ---------------------------------------------------------------------------------


def test_the_list_filters_by_status_type_expiry_and_learner(
    admin, admin_client, opened, evidence_add, learner
):
    other = Learner.objects.create(first_name="Bongani", last_name="Other")
    police = opened()
    evidence_add(police)
    vetting_record_clear(
        actor=admin, record=police, expires_on=timezone.localdate() + datetime.timedelta(days=10)
    )
    identity = opened("identity")
    medical = opened("medical", who=other)
    vetting_record_fail(actor=admin, record=medical, reason="Unfit")
    url = reverse("placements:vetting_list")

    def shown(**query) -> set[int]:
        response = admin_client.get(url, query)
        assert response.status_code == 200
        return {record.pk for record in response.context["page"].object_list}

    assert shown() == {police.pk, identity.pk, medical.pk}
    assert shown(status="failed") == {medical.pk}
    assert shown(vetting_type=vetting_type("identity").pk) == {identity.pk}
    assert shown(expiring="on") == {police.pk}
    assert shown(q="bongani") == {medical.pk}
    assert shown(q="thandi learner") == {police.pk, identity.pk}
    assert "No vetting record matches these filters." in text(admin_client.get(url, {"q": "zz"}))


def test_the_list_says_when_there_is_nothing_yet(admin_client):
    response = admin_client.get(reverse("placements:vetting_list"))
    assert "No vetting records yet." in text(response)


def test_the_list_reads_a_fixed_number_of_queries(admin, admin_client):
    url = reverse("placements:vetting_list")
    medical = vetting_type("medical")

    def queries() -> int:
        admin_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    from placements.services.vetting import vetting_record_open

    for number in range(2):
        learner = Learner.objects.create(first_name=f"First{number}")
        vetting_record_open(actor=admin, learner=learner, vetting_type=medical)
    few = queries()
    for number in range(6):
        learner = Learner.objects.create(first_name=f"More{number}")
        vetting_record_open(actor=admin, learner=learner, vetting_type=medical)
    assert queries() == few


def test_the_list_pages(admin, admin_client):
    from placements.services.vetting import vetting_record_open

    medical = vetting_type("medical")
    for number in range(27):
        learner = Learner.objects.create(first_name=f"Paged{number}")
        vetting_record_open(actor=admin, learner=learner, vetting_type=medical)
    response = admin_client.get(reverse("placements:vetting_list"), {"page": 2})
    assert len(response.context["page"].object_list) == 2
    assert "26–27 of 27" in text(response)


# --- A learner's page -------------------------------------------------------------------------


def test_a_learner_page_shows_each_requirement_and_opens_a_check(admin_client, learner):
    url = reverse("placements:learner_vetting", args=[learner.pk])
    page = text(admin_client.get(url))
    assert "Teaching Internship" in page
    assert "Not cleared for placement" in page
    assert page.count("Missing") == 2

    response = admin_client.post(url, {"vetting_type": vetting_type("police_clearance").pk})
    record = VettingRecord.objects.get(learner=learner)
    assert response.status_code == 302
    assert response["Location"] == detail_url(record)

    again = admin_client.post(url, {"vetting_type": vetting_type("police_clearance").pk})
    assert again.status_code == 400
    assert "already has an open police clearance check" in text(again)
    assert VettingRecord.objects.filter(learner=learner).count() == 1


# --- Evidence ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("clearance.pdf", HTML_PAGE, "This file is not a PDF, JPEG image or PNG image"),
        ("clearance.pdf", encrypted_pdf(), "This PDF is protected with a password"),
        ("clearance.pdf", b"", "The submitted file is empty"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(
    admin_client, opened, media_files, name, content, message
):
    record = opened()
    response = upload(admin_client, record, name, content)
    assert response.status_code == 400
    assert message in text(response)
    assert not VettingEvidence.objects.exists()
    assert media_files() == []
    assert not AuditEvent.objects.filter(action="vetting.evidence_add").exists()


def test_a_file_over_the_size_limit_is_stopped_while_it_streams(admin_client, opened, settings):
    from placements.services import vetting as services

    record = opened()
    big = PDF_BYTES + b"%" + b"0" * (services.EVIDENCE_MAX_SIZE_MB * 1024 * 1024)
    response = upload(admin_client, record, "big.pdf", big)
    assert response.status_code == 400
    assert "is more than the 10 MB allowed for Police clearance evidence" in text(response)
    assert not VettingEvidence.objects.exists()


def test_a_good_pdf_is_stored_privately_and_downloadable_with_the_permission(
    admin_client, opened, media_files, client_of
):
    record = opened()
    response = upload(admin_client, record, "SAPS certificate.pdf", PDF_BYTES)
    assert response.status_code == 302

    evidence = VettingEvidence.objects.get(record=record)
    assert evidence.original_name == "SAPS certificate.pdf"
    assert evidence.content_type == "application/pdf"
    assert evidence.scan_status == "not_scanned"
    [stored] = media_files()
    assert "SAPS" not in stored.name
    assert stored.read_bytes() == PDF_BYTES
    [event] = AuditEvent.objects.filter(action="vetting.evidence_add")
    assert "SAPS" not in str(event.new_values)

    file_url = reverse("placements:vetting_evidence_file", args=[record.pk, evidence.pk])
    download = admin_client.get(file_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    # The evidence of one record is not reachable through another's address.
    other = opened("identity")
    wrong = reverse("placements:vetting_evidence_file", args=[other.pk, evidence.pk])
    assert admin_client.get(wrong).status_code == 404


def test_an_image_is_accepted_too(admin_client, opened):
    record = opened()
    assert upload(admin_client, record, "photo.png", png_bytes()).status_code == 302
    assert VettingEvidence.objects.get(record=record).content_type == "image/png"


def test_evidence_is_not_added_to_a_closed_check(admin, admin_client, opened):
    record = opened()
    vetting_record_fail(actor=admin, record=record, reason="Forged")
    response = upload(admin_client, record, "late.pdf", PDF_BYTES)
    assert response.status_code == 400
    assert "cannot be given more evidence" in text(response)
    assert not VettingEvidence.objects.exists()


# --- Decisions --------------------------------------------------------------------------------


def test_the_clear_button_is_disabled_until_there_is_evidence(admin_client, opened, evidence_add):
    record = opened()
    page = admin_client.get(detail_url(record)).content.decode()
    assert 'disabled aria-describedby="clear-why"' in page
    assert "Clearing needs at least one evidence file" in page
    evidence_add(record)
    page = admin_client.get(detail_url(record)).content.decode()
    assert reverse("placements:vetting_clear", args=[record.pk]) in page


def test_clearing_offers_the_usual_expiry_and_refuses_a_past_one(
    admin_client, opened, evidence_add
):
    record = opened()
    evidence_add(record)
    url = reverse("placements:vetting_clear", args=[record.pk])
    offered = timezone.localdate() + datetime.timedelta(days=180)
    assert admin_client.get(url).context["form"]["expires_on"].value() == offered

    past = admin_client.post(url, {"expires_on": "2020-01-01", "reason": "seen"})
    assert past.status_code == 400
    assert "This date has passed" in text(past)
    missing = admin_client.post(url, {"expires_on": "", "reason": "seen"})
    assert missing.status_code == 400

    done = admin_client.post(url, {"expires_on": offered.isoformat(), "reason": "Seen"})
    assert done.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.expires_on) == (VettingStatus.CLEARED, offered)


def test_failing_needs_a_reason_on_its_confirmation_page(admin_client, opened):
    record = opened()
    url = reverse("placements:vetting_fail", args=[record.pk])
    assert "Fail the check" in text(admin_client.get(url))
    assert admin_client.post(url, {"reason": " "}).status_code == 400
    record.refresh_from_db()
    assert record.status == VettingStatus.PENDING
    assert admin_client.post(url, {"reason": "Conviction found"}).status_code == 302
    record.refresh_from_db()
    assert (record.status, record.reason) == (VettingStatus.FAILED, "Conviction found")


def test_starting_and_withdrawing(admin_client, opened, evidence_add):
    record = opened()
    admin_client.post(reverse("placements:vetting_start", args=[record.pk]), {"reference": "A1"})
    record.refresh_from_db()
    assert (record.status, record.reference) == (VettingStatus.IN_PROGRESS, "A1")
    evidence_add(record)
    admin_client.post(
        reverse("placements:vetting_clear", args=[record.pk]),
        {"expires_on": IN_A_YEAR.isoformat()},
    )
    url = reverse("placements:vetting_withdraw", args=[record.pk])
    assert admin_client.post(url, {"reason": "Certificate forged"}).status_code == 302
    record.refresh_from_db()
    assert (record.status, record.reason) == (VettingStatus.EXPIRED, "Certificate forged")


# --- Types and programmes ---------------------------------------------------------------------


def test_types_are_added_edited_and_taken_out_of_use(admin_client, programme):
    url = reverse("placements:vetting_types")
    response = admin_client.post(
        url, {"name": "First aid", "code": "first_aid", "expires": "on", "validity_days": "730"}
    )
    assert response.status_code == 302
    first_aid = vetting_type("first_aid")
    bad = admin_client.post(url, {"name": "Drug test", "code": "drug", "validity_days": "30"})
    assert bad.status_code == 400
    assert "Only a type whose clearances expire" in text(bad)

    edit = reverse("placements:vetting_type_edit", args=[first_aid.pk])
    admin_client.post(edit, {"name": "First aid L1", "description": "", "validity_days": ""})
    first_aid.refresh_from_db()
    assert (first_aid.name, first_aid.expires) == ("First aid L1", False)

    admin_client.post(reverse("placements:vetting_type_active", args=[first_aid.pk]))
    first_aid.refresh_from_db()
    assert not first_aid.is_active
    identity = vetting_type("identity")
    refused = admin_client.post(
        reverse("placements:vetting_type_active", args=[identity.pk]), follow=True
    )
    assert "required by Teaching Internship" in text(refused)
    assert vetting_type("identity").is_active


def test_a_programme_page_sets_what_it_requires(admin_client, programme):
    url = reverse("placements:programme_vetting", args=[programme.pk])
    medical = vetting_type("medical")
    response = admin_client.post(url, {"vetting_types": [medical.pk]})
    assert response.status_code == 302
    required = ProgrammeVettingRequirement.objects.filter(programme=programme)
    assert list(required.values_list("vetting_type__code", flat=True)) == ["medical"]
    listed = text(admin_client.get(reverse("placements:vetting_types")))
    assert "Teaching Internship" in listed


# --- The learner's own view -------------------------------------------------------------------


def test_a_learner_sees_only_their_own_vetting_without_downloads(
    admin, client_of, learner, programme, opened, evidence_add
):
    mine = opened()
    evidence = evidence_add(mine)
    vetting_record_fail(actor=admin, record=mine, reason="Certificate unreadable")
    stranger = enrol(admin, CohortFactory(active=True, programme=programme), full_name="Other One")
    opened("medical", who=stranger.learner)

    response = client_of(learner.user).get(reverse("placements:my_vetting"))
    assert response.status_code == 200
    records = response.context["records"]
    assert [record.pk for record in records] == [mine.pk]
    page = text(response)
    assert "Certificate unreadable" in page
    assert "Medical" not in page.split("Your checks")[1]
    assert reverse("placements:vetting_evidence_file", args=[mine.pk, evidence.pk]) not in page
    # The page's own link (the navbar has one too): from vetting to the placements it is for.
    link = f'<a href="{reverse("placements:my_placements")}" data-testid="my-placements-link">'
    assert f"{link}See my placements</a>" in response.content.decode()


def test_someone_without_a_learner_record_has_no_vetting_page(admin_client):
    assert admin_client.get(reverse("placements:my_vetting")).status_code == 404


def test_evidence_on_a_full_disk_is_refused_with_a_503_and_leaves_nothing(
    admin_client, opened, disk_of, media
):
    record = opened()
    disk_of(0)
    response = upload(admin_client, record, "clearance.pdf", PDF_BYTES)
    assert response.status_code == 503
    assert "We could not store your file. Try again later." in response.content.decode()
    assert not record.evidence.exists()
    assert [path for path in media.rglob("*") if path.is_file()] == []
