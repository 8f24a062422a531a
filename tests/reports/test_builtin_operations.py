"""Document review turnaround, placements by organisation, sync status and finance's reports
against known rows."""

# ruff: noqa: F811 (the fixture tests.reports.builtin_world.reported is imported by name)

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from cohorts.models import DocumentType
from enrolments.models import StudentDocument
from finance.models import FinanceSettings
from integrations.models import SyncJob, SyncJobStatus, SyncJobType
from placements.models import Placement, PlacementStatus
from reports.registry import report_for
from tests.finance.support import finance_world
from tests.finance.support_payments import issued
from tests.finance.test_commissions_views import accrue
from tests.reports.builtin_world import reported  # noqa: F401 (a fixture for these tests)
from tests.reports.support import days_ago, report_run
from tests.workplace.support import workplace_world
from verification.models import DocumentVerification, VerificationAction

pytestmark = pytest.mark.django_db


def _reviewed(enrollment, type_name: str, *, waited_days: float, action: str, admin):
    document_type = DocumentType.objects.get(name=type_name)
    document = StudentDocument.objects.create(
        learner=enrollment.learner,
        enrollment=enrollment,
        document_type=document_type,
        file=f"documents/{enrollment.pk}/{document_type.pk}",
        original_name="scan.pdf",
        size=1000,
        content_type="application/pdf",
        sha256="0" * 64,
    )
    StudentDocument.objects.filter(pk=document.pk).update(uploaded_at=days_ago(waited_days))
    DocumentVerification.objects.create(
        cohort_enrollment=enrollment,
        admin=admin,
        document=document,
        document_type=document_type,
        action=action,
        reason="Too blurry to read." if action == VerificationAction.REJECTED else "",
    )


ID = "South African ID or passport"
MATRIC = "Matric certificate"


@pytest.fixture
def reviewed(reported):
    admin = reported.admin
    _reviewed(reported.thandi, ID, waited_days=4, action=VerificationAction.APPROVED, admin=admin)
    _reviewed(
        reported.thandi, MATRIC, waited_days=2, action=VerificationAction.REJECTED, admin=admin
    )
    _reviewed(reported.sipho, ID, waited_days=1, action=VerificationAction.APPROVED, admin=admin)
    return reported


def test_document_review_turnaround_per_document_type(reviewed):
    rows = report_run(report_for("document_review"), {"group_by": "document_type"})
    assert rows == [
        {
            "group": MATRIC,
            "reviewed": 1,
            "approved": 0,
            "rejected": 1,
            "average_days": 2.0,
            "median_days": 2.0,
            "longest_days": 2.0,
        },
        {
            "group": ID,
            "reviewed": 2,
            "approved": 2,
            "rejected": 0,
            "average_days": 2.5,
            "median_days": 2.5,
            "longest_days": 4.0,
        },
    ]


def test_document_review_turnaround_per_cohort_and_in_a_period(reviewed):
    report = report_for("document_review")
    (row,) = report_run(report, {"group_by": "cohort"})
    assert (row["group"], row["reviewed"], row["median_days"]) == ("Alpha 2027", 3, 2.0)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert report_run(report, {"group_by": "cohort", "reviewed_from": tomorrow}) == []
    assert report_run(report, {"group_by": "cohort", "cohort": reviewed.beta.pk}) == []


def test_placements_by_organisation_counts_each_state(admin):
    world = workplace_world(admin, learners=3)
    Placement.objects.filter(pk=world.learner.placement.pk).update(status=PlacementStatus.COMPLETED)
    (row,) = report_run(report_for("placements_by_organisation"), {})
    assert row == {
        "organisation": "Orlando West High School",
        "proposed": 0,
        "confirmed": 0,
        "active": 2,
        "completed": 1,
        "terminated": 0,
        "cancelled": 0,
        "total": 3,
    }
    later = world.learner.placement.starts_on + datetime.timedelta(days=1)
    assert report_run(report_for("placements_by_organisation"), {"starts_from": later}) == []


def _job(number: int, job_type: str, status: str) -> SyncJob:
    job: SyncJob = SyncJob.objects.create(
        job_type=job_type,
        entity_type="delivery.attendancerecord",
        entity_id=str(number),
        idempotency_key=f"key-{number}",
        status=status,
        payload_hash="0" * 64,
    )
    return job


def test_sync_status_counts_jobs_by_record_and_status(institution):
    _job(1, SyncJobType.ATTENDANCE_CREATE, SyncJobStatus.SUCCEEDED)
    _job(2, SyncJobType.ATTENDANCE_CREATE, SyncJobStatus.SUCCEEDED)
    waiting = _job(3, SyncJobType.ATTENDANCE_CREATE, SyncJobStatus.QUEUED)
    _job(4, SyncJobType.ENROLMENT_CREATE, SyncJobStatus.DEAD_LETTER)
    rows = report_run(report_for("sync_status"), {})
    none = {status.value: 0 for status in SyncJobStatus}
    assert rows == [
        {
            "record_type": "Attendance: create",
            **none,
            "succeeded": 2,
            "queued": 1,
            "total": 3,
            "oldest_waiting": waiting.created_at,
        },
        {
            "record_type": "Enrolment: create",
            **none,
            "dead_letter": 1,
            "total": 1,
            "oldest_waiting": None,
        },
    ]


def test_finance_reports_read_finances_figures(admin):
    FinanceSettings.objects.create(pk=1, invoice_due_days=30, vat_rate=Decimal(15))
    world = finance_world(admin, learners=0)
    accrue(world, 2)
    issued(world, "100.00", issued_on=timezone.localdate() - datetime.timedelta(days=45))
    assert report_run(report_for("aged_debtors"), {}) == [
        {
            "debtor": "Umoya Mining (Pty) Ltd",
            "kind": "Sponsor",
            "currency": "ZAR",
            "current": Decimal("0.00"),
            "days_1_30": Decimal("100.00"),
            "days_31_60": Decimal("0.00"),
            "days_61_90": Decimal("0.00"),
            "days_over_90": Decimal("0.00"),
            "total": Decimal("100.00"),
            "invoices": 1,
        }
    ]
    (owed,) = report_run(report_for("commissions_owed"), {})
    assert (owed["partner"], owed["currency"], owed["amount"], owed["commissions"]) == (
        world.broker.name,
        "ZAR",
        Decimal("1500.00"),
        2,
    )
    last_year = timezone.localdate().replace(day=1) - datetime.timedelta(days=400)
    assert report_run(report_for("commissions_owed"), {"accrued_in": last_year}) == []
