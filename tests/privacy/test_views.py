"""The data protection pages: the retention settings form, the jobs page with its dry runs and
confirmed runs, who may open them; and the verify pages once a sealed document is retired."""

import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from cohorts.models import Cohort
from privacy.models import DataProtectionSettings, JobKind, JobRun
from privacy.services.jobs import job_run
from tests.factories import CohortFactory
from tests.privacy.support import cohort_ended, graduate_make

pytestmark = pytest.mark.django_db

SETTINGS = {
    "archive_after_years": 5,
    "anonymise_after_years": 2,
    "legal_retention_years": 7,
    "backup_retention_years": 7,
    "account_purge_days": 30,
    "small_cell_threshold": 5,
    "report_expiry_days": 7,
}
_address = itertools.count(1)


@pytest.fixture
def public_client(client_for, institution):
    """A visitor without an account, from an address of the test's own (rate limits count per
    address)."""
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = f"10.77.0.{next(_address)}"
    return client


def test_the_super_admin_saves_the_retention_settings(super_admin_client):
    url = reverse("privacy:settings")
    page = super_admin_client.get(url)
    assert page.status_code == 200
    assert "These are the defaults until someone saves them." in page.content.decode()

    response = super_admin_client.post(url, {**SETTINGS, "archive_after_years": 4})

    assert response.status_code == 302
    assert DataProtectionSettings.objects.get(pk=1).archive_after_years == 4
    assert AuditEvent.objects.filter(action="data_protection_settings.updated").exists()


def test_a_bad_setting_is_refused_with_its_message(super_admin_client):
    response = super_admin_client.post(
        reverse("privacy:settings"), {**SETTINGS, "archive_after_years": 0}
    )

    assert response.status_code == 400
    assert "At least one year." in response.content.decode()
    assert not DataProtectionSettings.objects.exists()


def test_an_admin_cannot_open_or_run_data_protection(admin_client):
    assert admin_client.get(reverse("privacy:settings")).status_code == 404
    assert admin_client.get(reverse("privacy:jobs")).status_code == 404
    response = admin_client.post(
        reverse("privacy:job_start"), {"kind": JobKind.ARCHIVE_COHORTS, "dry_run": "on"}
    )
    assert response.status_code == 404
    assert not JobRun.objects.exists()


def test_a_dry_run_from_the_page_lists_and_a_confirmed_run_archives(super_admin_client):
    old = cohort_ended(CohortFactory(name="Bricklaying 2014"), years_ago=8)

    dry = super_admin_client.post(
        reverse("privacy:job_start"), {"kind": JobKind.ARCHIVE_COHORTS, "dry_run": "on"}
    )
    run_page = super_admin_client.get(dry.url).content.decode()
    assert "Cohort: Bricklaying 2014" in run_page
    assert "A dry run: nothing was changed." in run_page
    assert Cohort.objects.get(pk=old.pk).archived_at is None

    confirm = super_admin_client.get(
        reverse("privacy:job_confirm", args=[JobKind.ARCHIVE_COHORTS])
    ).content.decode()
    assert "Cohort: Bricklaying 2014" in confirm
    assert "cannot be undone" in confirm
    super_admin_client.post(reverse("privacy:job_start"), {"kind": JobKind.ARCHIVE_COHORTS})

    assert Cohort.objects.get(pk=old.pk).archived_at is not None
    jobs = super_admin_client.get(reverse("privacy:jobs")).content.decode()
    assert jobs.count("Archive completed cohorts") >= 3  # the card and both runs


def test_the_confirmation_asks_for_a_dry_run_first(super_admin_client):
    page = super_admin_client.get(
        reverse("privacy:job_confirm", args=[JobKind.ANONYMISE_LEARNERS])
    ).content.decode()
    assert "Dry-run this job first" in page
    assert (
        super_admin_client.get(reverse("privacy:job_confirm", args=["nothing"])).status_code == 404
    )


def test_the_jobs_page_makes_as_many_queries_for_many_runs(
    super_admin, super_admin_client, django_assert_num_queries
):
    url = reverse("privacy:jobs")
    job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=True)
    super_admin_client.get(url)
    with CaptureQueriesContext(connection) as few:
        super_admin_client.get(url)
    for _ in range(6):
        job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=True)
    with django_assert_num_queries(len(few.captured_queries)):
        super_admin_client.get(url)


def test_the_verify_pages_say_a_retired_document_was_retired(
    graduate,
    admin,
    super_admin,
    media,
    public_client,
    django_capture_on_commit_callbacks,
):
    made = graduate_make(graduate, admin)
    with made.agreement.final_pdf.open("rb") as stored:
        agreement_pdf = stored.read()
    with made.certificate.pdf.open("rb") as stored:
        certificate_pdf = stored.read()
    cohort_ended(made.cohort, years_ago=8)

    with django_capture_on_commit_callbacks(execute=True):
        run = job_run(actor=super_admin, kind=JobKind.PURGE_SEALED_RECORDS, dry_run=False)

    assert {item["type"] for item in run.items} == {"agreement", "certificate"}
    agreement = public_client.post(
        reverse("signing_public:verify"),
        {"document": SimpleUploadedFile("a.pdf", agreement_pdf, "application/pdf")},
    )
    assert "Retired under the retention rules" in agreement.content.decode()
    assert "retired under the institution&#x27;s retention rules" in agreement.content.decode()
    by_pdf = public_client.post(
        reverse("delivery_public:verify"),
        {"document": SimpleUploadedFile("c.pdf", certificate_pdf, "application/pdf")},
    )
    assert "Retired under the retention rules" in by_pdf.content.decode()
    by_code = public_client.get(
        reverse("delivery_public:verify"), {"code": made.certificate.verification_code}
    )
    page = by_code.content.decode()
    assert "Retired under the retention rules" in page
    assert "Nokuthula" not in page
