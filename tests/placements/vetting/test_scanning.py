"""Evidence goes through the antivirus hook students' documents use (enrolments.scanning),
against the fake clamd on the loopback address: it waits for the scan before it counts, and
an infected file is removed and can never clear a check."""

import contextlib
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from audit.models import AuditEvent
from enrolments.scanning import quarantined_file_remove_on_commit
from placements.models import VettingEvidence
from placements.services.vetting import evidence_is_reviewable, vetting_record_clear
from tests.files import PDF_BYTES
from tests.uploads.hostile import pdf_with_virus_marker

from .test_views import upload

pytestmark = pytest.mark.django_db

IN_A_YEAR = timezone.localdate() + datetime.timedelta(days=365)


def test_clean_evidence_counts_once_scanned(
    admin,
    admin_client,
    opened,
    fake_clamd,
    eager,
    django_capture_on_commit_callbacks,
):
    record = opened()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(admin_client, record, "clearance.pdf", PDF_BYTES)
    evidence = VettingEvidence.objects.get(record=record)
    assert evidence.scan_status == "scanning"
    assert not evidence_is_reviewable(evidence)
    with pytest.raises(ValidationError, match="Upload the evidence first"):
        vetting_record_clear(actor=admin, record=record, expires_on=IN_A_YEAR)

    for callback in callbacks:
        callback()

    evidence.refresh_from_db()
    assert evidence.scan_status == "clean"
    assert fake_clamd.streams == [PDF_BYTES]
    vetting_record_clear(actor=admin, record=record, expires_on=IN_A_YEAR)


def test_infected_evidence_is_removed_and_never_counts(
    admin,
    admin_client,
    opened,
    fake_clamd,
    eager,
    django_capture_on_commit_callbacks,
    media_files,
):
    record = opened()
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, record, "clearance.pdf", pdf_with_virus_marker())

    evidence = VettingEvidence.objects.get(record=record)
    assert evidence.scan_status == "infected"
    assert not evidence.file
    assert media_files() == []
    [event] = AuditEvent.objects.filter(action="vetting.evidence_quarantined")
    assert event.new_values["signature"] == "Eicar-Signature"
    with pytest.raises(ValidationError, match="Upload the evidence first"):
        vetting_record_clear(actor=admin, record=record, expires_on=IN_A_YEAR)
    file_url = reverse("placements:vetting_evidence_file", args=[record.pk, evidence.pk])
    assert admin_client.get(file_url).status_code == 404


def test_a_quarantined_file_is_deleted_only_once_the_verdict_commits(
    opened, evidence_add, media_files, django_capture_on_commit_callbacks
):
    """The quarantine step vetting evidence shares with students' documents: nothing is
    deleted if the verdict's transaction rolls back; once it commits, the file goes, under the
    institution's schema whichever schema the connection is on by then."""
    evidence = evidence_add(opened())
    [stored] = media_files()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        quarantined_file_remove_on_commit(evidence.file)
        raise RuntimeError("the verdict was not recorded")
    assert callbacks == []
    assert stored.exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert quarantined_file_remove_on_commit(evidence.file) == evidence.file.name
    assert stored.exists()
    with schema_context(get_public_schema_name()):
        for callback in callbacks:
            callback()
    assert media_files() == []
