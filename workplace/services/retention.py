"""What the data protection jobs do to workplace learning's records of a learner when the
learner is anonymised: the logbook's tasks and its mentors' comments, the observation reports,
the portfolios' titles, feedback and moderators' reasons become ERASED; evidence files and the
portfolio PDFs handed out are deleted from storage with their rows. Hours, dates, statuses and
decisions stay, for the counts and results. Composed inside the job's transaction (not
durable); the job checks the permission and records the run."""

from typing import Any

from django.db.models import QuerySet

from audit.services import CHANGED, audit_record
from learners.models import Learner
from signing.services.retention import ERASED
from tenants.storage import file_delete_on_commit
from workplace.models import (
    EvidenceKind,
    LogbookEntry,
    LogbookEvidence,
    LogbookReview,
    ModerationItem,
    ObservationReport,
    PortfolioEvidence,
    PortfolioExport,
    PortfolioSubmission,
)


def _files_delete(rows: QuerySet[Any], field: str) -> None:
    """Delete the `field` file of each of `rows` from storage once the job's transaction
    commits."""
    for row in rows.exclude(**{field: ""}).only("pk", field):
        file = getattr(row, field)
        file_delete_on_commit(file.storage, file.name)


def learner_workplace_erase(*, learner: Learner) -> None:
    """Erase what workplace learning holds about `learner` in their placements' logbooks and
    observations and in their courses' portfolios."""
    entries = LogbookEntry.objects.filter(week__placement__learner=learner)
    logbook_evidence = LogbookEvidence.objects.filter(entry__in=entries)
    _files_delete(logbook_evidence, "file")
    logbook_files, _by_model = logbook_evidence.delete()
    entries.update(tasks=ERASED)
    LogbookReview.objects.filter(week__placement__learner=learner).exclude(comment="").update(
        comment=ERASED
    )
    ObservationReport.objects.filter(placement__learner=learner).update(report=ERASED)

    portfolio_evidence = PortfolioEvidence.objects.filter(
        portfolio__course_enrollment__enrollment__learner=learner
    )
    documents = portfolio_evidence.filter(kind=EvidenceKind.DOCUMENT)
    _files_delete(documents, "file")
    document_count, _by_model = documents.delete()
    portfolio_evidence.update(title=ERASED)
    submissions = PortfolioSubmission.objects.filter(
        portfolio__course_enrollment__enrollment__learner=learner
    )
    submissions.exclude(feedback="").update(feedback=ERASED)
    ModerationItem.objects.filter(submission__in=submissions).exclude(reasons="").update(
        reasons=ERASED
    )
    exports = PortfolioExport.objects.filter(course_enrollment__enrollment__learner=learner)
    _files_delete(exports, "pdf")
    export_count, _by_model = exports.delete()
    audit_record(
        action="workplace.personal_data_erased",
        entity=learner,
        new_values={
            "logbook_entries": entries.count(),
            "logbook_evidence": logbook_files,
            "portfolio_documents": document_count,
            "portfolio_exports": export_count,
            "notes": CHANGED,
        },
    )
