"""The data protection jobs: archive completed cohorts, anonymise the learners of archived ones,
retire sealed records past their legal retention. Each runs in the current institution's
schema, lists what it does (or, as a dry run, what it would do) and is recorded as a JobRun.

The work itself lives with the data it touches (cohorts archive a cohort, learners anonymise a
learner, signing retires an agreement ...); a job chooses what is due by the institution's
rules and calls those services in one transaction, so that a failure leaves nothing half done.
Items are labelled without personal values ("Cohort: Plumbing 2019", "Learner #123")."""

import logging
from collections.abc import Callable
from datetime import date
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from accounts.services import accounts_purge_due_in_transaction
from audit.services import audit_record
from cohorts.selectors import cohorts_due_for_archiving
from cohorts.services import cohort_archive
from delivery.selectors.certificates import certificates_to_retire
from delivery.services.retention import certificates_retire, course_notes_erase
from enrolments.models import CohortEnrollment, SupportingAgreement
from enrolments.services import enrolments_personal_data_erase
from learners.services import learner_anonymise
from partners.services.bank import learner_bank_details_delete
from placements.services.retention import learner_placements_erase
from privacy.models import DataProtectionSettings, JobKind, JobRun
from privacy.selectors import (
    cohorts_past_legal_retention,
    data_protection_settings_current,
    learners_due_for_anonymising,
    years_before,
)
from privacy.services.settings import MANAGE_DATA_PROTECTION
from projects.services.retention import learner_projects_erase
from signing.selectors import sealed_submissions_to_retire
from signing.services.retention import submissions_retire
from verification.services import learner_verifications_erase
from workplace.services.retention import learner_workplace_erase

logger = logging.getLogger(__name__)


class JobItem(TypedDict):
    """One object a job touched (or would): never a personal value in `label`."""

    type: str
    id: int
    label: str
    action: str


Job = Callable[[DataProtectionSettings, date, bool], list[JobItem]]


def archive_cohorts(rules: DataProtectionSettings, today: date, dry_run: bool) -> list[JobItem]:
    """Completed cohorts that ended more than `archive_after_years` ago become read-only."""
    cohorts = list(
        cohorts_due_for_archiving(ended_before=years_before(today, rules.archive_after_years))
    )
    if not dry_run:
        for cohort in cohorts:
            cohort_archive(cohort=cohort)
    return [
        JobItem(type="cohort", id=cohort.pk, label=f"Cohort: {cohort.name}", action="archive")
        for cohort in cohorts
    ]


def anonymise_learners(rules: DataProtectionSettings, today: date, dry_run: bool) -> list[JobItem]:
    """Learners whose every cohort is archived and ended more than `archive_after_years` plus
    `anonymise_after_years` ago lose their personal data; what reports need stays."""
    cutoff = years_before(today, rules.archive_after_years + rules.anonymise_after_years)
    learners = list(learners_due_for_anonymising(ended_before=cutoff))
    if not dry_run:
        for learner in learners:
            learner_anonymise(learner=learner)
            enrollments = enrolments_personal_data_erase(learner=learner)
            course_notes_erase(enrollments=enrollments)
            learner_bank_details_delete(learner=learner)
            learner_placements_erase(learner=learner)
            learner_workplace_erase(learner=learner)
            learner_verifications_erase(learner=learner)
            learner_projects_erase(learner=learner)
    return [
        JobItem(type="learner", id=learner.pk, label=f"Learner #{learner.pk}", action="anonymise")
        for learner in learners
    ]


def purge_sealed_records(
    rules: DataProtectionSettings, today: date, dry_run: bool
) -> list[JobItem]:
    """Sealed agreements and issued certificates of cohorts that ended more than
    `legal_retention_years` ago are deleted; a RetiredDocument keeps each one's hash."""
    cohorts = cohorts_past_legal_retention(
        ended_before=years_before(today, rules.legal_retention_years)
    )
    enrollments = CohortEnrollment.objects.filter(cohort__in=cohorts)
    subjects = [
        *cohorts,
        *enrollments,
        *SupportingAgreement.objects.filter(enrollment__in=enrollments),
    ]
    agreements = list(sealed_submissions_to_retire(subjects))
    certificates = list(certificates_to_retire(enrollments=enrollments))
    if not dry_run:
        submissions_retire(submissions=agreements)
        certificates_retire(certificates=certificates)
    return [
        *(
            JobItem(
                type="agreement", id=item.pk, label=f"Sealed agreement #{item.pk}", action="retire"
            )
            for item in agreements
        ),
        *(
            JobItem(
                type="certificate",
                id=item.pk,
                label=f"{item.get_kind_display()} {item.verification_code}",
                action="retire",
            )
            for item in certificates
        ),
    ]


def purge_accounts(rules: DataProtectionSettings, today: date, dry_run: bool) -> list[JobItem]:
    """Accounts deleted more than `account_purge_days` ago are anonymised for good
    (accounts.services; the days are read there through accounts.signals)."""
    return [
        JobItem(type=item["type"], id=item["id"], label=item["label"], action=item["action"])
        for item in accounts_purge_due_in_transaction(dry_run=dry_run)
    ]


# The jobs this institution runs, in the order the daily run takes them (an archive first, so
# that its learners can be anonymised in the same day's run once they are due).
JOBS: dict[str, Job] = {
    JobKind.ARCHIVE_COHORTS: archive_cohorts,
    JobKind.ANONYMISE_LEARNERS: anonymise_learners,
    JobKind.PURGE_SEALED_RECORDS: purge_sealed_records,
    JobKind.PURGE_ACCOUNTS: purge_accounts,
}


def job_run(*, actor: User | None, kind: str, dry_run: bool) -> JobRun:
    """Run the `kind` job in the current institution (`actor` None: the daily run), or only
    list what it would do. Recorded either way; a job that fails changes nothing and its run
    keeps the error."""
    permission_check(
        actor=actor, action=f"privacy.job_run.{kind}", permission=MANAGE_DATA_PROTECTION
    )
    job = JOBS.get(kind)
    if job is None:
        raise ValidationError(f"No data protection job is called “{kind}”.", code="unknown_job")
    rules = data_protection_settings_current()
    try:
        with transaction.atomic(durable=True):
            run = JobRun.objects.create(kind=kind, dry_run=dry_run, started_by=actor)
            items = job(rules, timezone.localdate(), dry_run)
            run.items, run.item_count, run.finished_at = items, len(items), timezone.now()
            run.save(update_fields=["items", "item_count", "finished_at"])
            audit_record(
                actor=actor,
                action="data_protection.job_run",
                entity=run,
                new_values={"kind": kind, "dry_run": dry_run, "item_count": len(items)},
            )
    except Exception as error:
        logger.exception("Data protection job %s failed", kind)
        return _job_failure_record(actor=actor, kind=kind, dry_run=dry_run, error=error)
    return run


def _job_failure_record(
    *, actor: User | None, kind: str, dry_run: bool, error: Exception
) -> JobRun:
    """The record of a run that failed and was rolled back (the error's type and message: no
    personal value is in either)."""
    with transaction.atomic(durable=True):
        run = JobRun.objects.create(
            kind=kind,
            dry_run=dry_run,
            started_by=actor,
            finished_at=timezone.now(),
            error_message=f"{type(error).__name__}: {error}",
        )
        audit_record(
            actor=actor,
            action="data_protection.job_failed",
            entity=run,
            new_values={"kind": kind, "dry_run": dry_run},
        )
    return run


def jobs_run_all(*, dry_run: bool = False) -> list[JobRun]:
    """Every job, in order, for the current institution (the daily run)."""
    return [job_run(actor=None, kind=kind, dry_run=dry_run) for kind in JOBS]
