"""Anonymising a learner whose cohorts are archived, and retiring their sealed records: after
the jobs, no personal value of theirs is left in any table or file (their enrolment, courses,
placement, vetting, logbook, portfolio and document reviews included); what reports count is
unchanged; the audit chain still verifies."""

from decimal import Decimal

import pytest

from audit.selectors import audit_chain_first_break
from learners.models import Learner, LearnerStatus
from partners.models import BankAccount
from placements.models import (
    LearnerLocation,
    Placement,
    PlacementStatus,
    VettingEvidence,
    VettingRecord,
    VettingStatus,
)
from privacy.models import JobKind
from privacy.services.jobs import job_run
from signing.services.retention import ERASED
from tests.privacy.support import (
    ID_NUMBER,
    aggregates,
    cohort_ended,
    files_under,
    graduate_make,
    traces,
)
from verification.models import DocumentVerification, VerificationAction
from workplace.models import (
    Decision,
    LogbookEntry,
    LogbookEvidence,
    PortfolioEvidence,
    PortfolioStatus,
    PortfolioSubmission,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_graduate(graduate, admin, institution, media):
    made = graduate_make(graduate, admin)
    cohort_ended(made.cohort, years_ago=12)
    return made


def _all_jobs(super_admin, capture) -> None:
    with capture(execute=True):
        for kind in (
            JobKind.ARCHIVE_COHORTS,
            JobKind.ANONYMISE_LEARNERS,
            JobKind.PURGE_SEALED_RECORDS,
        ):
            run = job_run(actor=super_admin, kind=kind, dry_run=False)
            assert not run.error_message


def test_no_personal_value_of_an_anonymised_learner_is_left_in_any_table(
    old_graduate, super_admin, django_capture_on_commit_callbacks
):
    in_clear = set(old_graduate.values) - {ID_NUMBER}  # held encrypted, checked below
    assert {value for _table, _column, value in traces(old_graduate.values)} == in_clear
    assert old_graduate.learner.national_id_encrypted is not None

    _all_jobs(super_admin, django_capture_on_commit_callbacks)

    assert traces(old_graduate.values) == []
    learner = old_graduate.learner
    assert learner.national_id_encrypted is None
    assert (learner.national_id_hash, learner.national_id_last4) == ("", "")
    assert learner.status == LearnerStatus.ARCHIVED
    assert learner.anonymised_at is not None
    assert not learner.user.is_active
    assert not learner.user.has_usable_password()
    assert not BankAccount.objects.filter(learner=learner).exists()
    assert not LearnerLocation.objects.filter(learner=learner).exists()


def test_what_aggregates_need_of_placements_and_portfolios_stays(
    old_graduate, super_admin, django_capture_on_commit_callbacks
):
    _all_jobs(super_admin, django_capture_on_commit_callbacks)

    placement = Placement.objects.get(pk=old_graduate.placement.pk)
    assert (placement.status, placement.starts_on, placement.ends_on) == (
        PlacementStatus.COMPLETED,
        old_graduate.placement.starts_on,
        old_graduate.placement.ends_on,
    )
    record = VettingRecord.objects.get(learner=placement.learner)
    assert (record.status, record.reason) == (VettingStatus.FAILED, ERASED)
    assert not VettingEvidence.objects.filter(record=record).exists()
    entry = LogbookEntry.objects.get(week__placement=placement)
    assert (entry.hours, entry.tasks) == (Decimal("7.5"), ERASED)
    assert not LogbookEvidence.objects.filter(entry=entry).exists()
    submission = PortfolioSubmission.objects.get(
        portfolio__course_enrollment__enrollment__learner=placement.learner
    )
    assert (submission.decision, submission.feedback) == (Decision.NOT_YET_COMPETENT, ERASED)
    assert submission.portfolio.status == PortfolioStatus.NOT_YET_COMPETENT
    assert not PortfolioEvidence.objects.filter(portfolio=submission.portfolio).exists()
    decision = DocumentVerification.objects.get(cohort_enrollment=old_graduate.enrollment)
    assert (decision.action, decision.reason) == (VerificationAction.REJECTED, ERASED)
    assert "original_name" not in decision.metadata
    assert decision.metadata["sha256"]


def test_no_file_of_an_anonymised_learner_is_left_in_storage(
    old_graduate, super_admin, media, institution, django_capture_on_commit_callbacks
):
    root = media / institution.schema_name
    theirs = files_under(root)
    assert len(theirs) >= 7, "documents, agreement PDFs, certificate, vetting and work evidence"
    assert {root / name for name in old_graduate.evidence_files} <= theirs

    _all_jobs(super_admin, django_capture_on_commit_callbacks)

    assert files_under(media / institution.schema_name) & theirs == set()


def test_what_reports_count_is_the_same_after_anonymisation(
    old_graduate, super_admin, django_capture_on_commit_callbacks
):
    before = aggregates()

    _all_jobs(super_admin, django_capture_on_commit_callbacks)

    after = aggregates()
    equity_before = {key[:3]: n for key, n in before["equity"].items()}
    equity_after = {key[:3]: n for key, n in after["equity"].items()}
    assert equity_after == equity_before
    assert {key: before[key] for key in ("results", "outcomes", "attendance", "certificates")} == {
        key: after[key] for key in ("results", "outcomes", "attendance", "certificates")
    }
    assert old_graduate.learner.date_of_birth.isoformat() == "1990-01-01"
    assert ID_NUMBER.startswith("920412")


def test_the_audit_chain_still_verifies_after_the_jobs(
    old_graduate, super_admin, django_capture_on_commit_callbacks
):
    _all_jobs(super_admin, django_capture_on_commit_callbacks)

    assert audit_chain_first_break() is None


def test_a_learner_within_the_retention_period_is_left_alone(
    graduate,
    admin,
    super_admin,
    institution,
    media,
):
    made = graduate_make(graduate, admin)
    cohort_ended(made.cohort, years_ago=6)

    job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=False)
    run = job_run(actor=super_admin, kind=JobKind.ANONYMISE_LEARNERS, dry_run=False)

    assert run.items == []
    assert Learner.objects.get(pk=made.learner.pk).anonymised_at is None
    assert made.cohort.archived_at is not None
