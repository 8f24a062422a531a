"""Portfolios of evidence: the learner opens one for an outcome of a course they take, adds
evidence (confirmed logbook entries, their mentor's observation reports, uploaded documents),
hands it in, and after "not yet competent" reopens it to hand it in again. A registered
assessor whose registration covers the programme decides; every hand-in and decision is kept.
Evidence that went with a hand-in stays: an assessor has seen it."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from academics.models import Outcome
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record, kept_out
from delivery.models import CourseEnrollment
from enrolments.uploads import CheckedUpload
from learners.models import Learner
from notifications.services import email_enqueue
from tenants.db import tenant_connection
from tenants.sites import institution_url
from workplace.access import (
    ASSESS,
    is_own_course_enrollment,
    is_own_portfolio,
    registration_valid,
)
from workplace.models import (
    Decision,
    EvidenceKind,
    LogbookEntry,
    LogbookWeekStatus,
    Mentorship,
    ModerationItem,
    ObservationReport,
    Portfolio,
    PortfolioEvidence,
    PortfolioStatus,
    PortfolioSubmission,
    PractitionerRole,
    SampleStatus,
)
from workplace.selectors.hours import hours_text
from workplace.services.evidence import (
    evidence_audit_values,
    evidence_file_write,
    evidence_files_written,
    evidence_fill,
)

TITLE_MAX = 200
# Uploaded documents per portfolio (each up to EVIDENCE_MAX_SIZE_MB): what an assessor reads
# and the PDF carries stays bounded.
MAX_DOCUMENTS = 50


def _own_check(actor: User, portfolio: Portfolio, action: str) -> None:
    """Only the learner whose portfolio it is changes it (anyone else: the audited 404)."""
    permission_check(
        actor=actor,
        action=action,
        allowed=is_own_portfolio(actor, portfolio),
    )


def _lock(portfolio: Portfolio) -> Portfolio:
    locked: Portfolio = (
        Portfolio.objects.select_for_update()
        .select_related("outcome", "course_enrollment__enrollment__learner")
        .get(pk=portfolio.pk)
    )
    return locked


def _draft_check(portfolio: Portfolio) -> None:
    if portfolio.status != PortfolioStatus.DRAFT:
        raise ValidationError(
            "Evidence is added and removed while the portfolio is being assembled: "
            f"this one is {portfolio.get_status_display().lower()}."
        )


# --- Opening ----------------------------------------------------------------------------------


def portfolio_open(
    *, actor: User, course_enrollment: CourseEnrollment, outcome: Outcome
) -> Portfolio:
    """The learner's portfolio for `outcome` of the course they take, made the first time."""
    permission_check(
        actor=actor,
        action="workplace.portfolio_open",
        allowed=is_own_course_enrollment(actor, course_enrollment.pk),
    )
    if outcome.course_id != course_enrollment.course_id or not outcome.is_active:
        raise ValidationError("This outcome is not one of the course's outcomes.")
    with transaction.atomic(durable=True):
        found: tuple[Portfolio, bool] = Portfolio.objects.get_or_create(
            course_enrollment=course_enrollment, outcome=outcome
        )
        portfolio, created = found
        if created:
            audit_record(
                actor=actor,
                action="workplace.portfolio_open",
                entity=portfolio,
                new_values={"course_enrollment": course_enrollment.pk, "outcome": outcome.pk},
            )
    return portfolio


# --- Evidence ---------------------------------------------------------------------------------


def _evidence_audit(actor: User, evidence: PortfolioEvidence, **values: Any) -> None:
    audit_record(
        actor=actor,
        action="workplace.portfolio_evidence_add",
        entity=evidence,
        new_values={"portfolio": evidence.portfolio_id, "kind": evidence.kind, **values},
    )


def evidence_add_entry(
    *, actor: User, portfolio: Portfolio, entry: LogbookEntry
) -> PortfolioEvidence:
    """One of the learner's logbook entries of a confirmed week that practised the outcome."""
    _own_check(actor, portfolio, "workplace.portfolio_evidence_add")
    with transaction.atomic(durable=True):
        portfolio = _lock(portfolio)
        _draft_check(portfolio)
        learner = portfolio.course_enrollment.enrollment.learner
        usable = LogbookEntry.objects.filter(
            pk=entry.pk,
            week__placement__learner=learner,
            week__status=LogbookWeekStatus.CONFIRMED,
            outcomes=portfolio.outcome,
        ).select_related("week")
        found = usable.first()
        if found is None:
            raise ValidationError(
                "Only your own logbook entries of weeks your mentor confirmed, that practised "
                "this outcome, count as evidence."
            )
        if portfolio.evidence.filter(logbook_entry=found).exists():
            raise ValidationError("This logbook entry is already in the portfolio.")
        evidence = PortfolioEvidence.objects.create(
            portfolio=portfolio,
            kind=EvidenceKind.LOGBOOK_ENTRY,
            title=f"Logbook, {found.entry_date:%-d %b %Y}: {hours_text(found.hours)} hours",
            logbook_entry=found,
            uploaded_by=actor,
        )
        _evidence_audit(actor, evidence, logbook_entry=found.pk)
    return evidence


def evidence_add_observation(
    *, actor: User, portfolio: Portfolio, observation: ObservationReport
) -> PortfolioEvidence:
    """A mentor's observation report about the learner, for this outcome."""
    _own_check(actor, portfolio, "workplace.portfolio_evidence_add")
    with transaction.atomic(durable=True):
        portfolio = _lock(portfolio)
        _draft_check(portfolio)
        learner = portfolio.course_enrollment.enrollment.learner
        found = ObservationReport.objects.filter(
            pk=observation.pk, placement__learner=learner, outcome=portfolio.outcome
        ).first()
        if found is None:
            raise ValidationError(
                "Only observation reports about you, for this outcome, count as evidence."
            )
        if portfolio.evidence.filter(observation=found).exists():
            raise ValidationError("This observation report is already in the portfolio.")
        evidence = PortfolioEvidence.objects.create(
            portfolio=portfolio,
            kind=EvidenceKind.OBSERVATION,
            title=f"Observation report, {found.observed_on:%-d %b %Y}",
            observation=found,
            uploaded_by=actor,
        )
        _evidence_audit(actor, evidence, observation=found.pk)
    return evidence


def evidence_add_document(
    *,
    actor: User,
    portfolio: Portfolio,
    checked: CheckedUpload,
    scan_status: str,
    title: str = "",
) -> PortfolioEvidence:
    """An upload that passed enrolments.uploads' checks, stored under a random name (removed
    again should the change not commit). `title` says what it shows (the file's name if not
    given)."""
    _own_check(actor, portfolio, "workplace.portfolio_evidence_add")
    title = (title.strip() or checked.original_name)[:TITLE_MAX]
    with evidence_files_written() as written, transaction.atomic(durable=True):
        portfolio = _lock(portfolio)
        _draft_check(portfolio)
        documents = portfolio.evidence.filter(kind=EvidenceKind.DOCUMENT).count()
        if documents >= MAX_DOCUMENTS:
            raise ValidationError(
                f"A portfolio holds at most {MAX_DOCUMENTS} documents: combine scans into one "
                "PDF, or remove one not yet handed in.",
                code="too_many_files",
            )
        evidence = PortfolioEvidence(portfolio=portfolio, kind=EvidenceKind.DOCUMENT, title=title)
        evidence_fill(evidence, checked, actor=actor, scan_status=scan_status)
        evidence_file_write(evidence, scanned_as="portfolio", written=written)
        evidence.save()
        _evidence_audit(actor, evidence, **evidence_audit_values(evidence, checked))
    return evidence


def evidence_remove(*, actor: User, portfolio: Portfolio, evidence: PortfolioEvidence) -> None:
    """Take out evidence not yet handed in (a document's file goes once this commits)."""
    _own_check(actor, portfolio, "workplace.portfolio_evidence_remove")
    with transaction.atomic(durable=True):
        portfolio = _lock(portfolio)
        _draft_check(portfolio)
        found = (
            PortfolioEvidence.objects.select_for_update()
            .filter(pk=evidence.pk, portfolio=portfolio)
            .first()
        )
        if found is None:
            raise ValidationError("This evidence is not in the portfolio.")
        if found.submission_id is not None:
            raise ValidationError(
                "This evidence was handed in with an earlier submission: it stays, as the "
                "assessor has seen it."
            )
        audit_record(
            actor=actor,
            action="workplace.portfolio_evidence_remove",
            entity=found,
            old_values={"portfolio": portfolio.pk, "kind": found.kind},
        )
        if found.file:
            storage, name = found.file.storage, found.file.name or ""
            transaction.on_commit(lambda: storage.delete(name))
        found.delete()


# --- Hand-in and reopening --------------------------------------------------------------------


def portfolio_submit(*, actor: User, portfolio: Portfolio) -> PortfolioSubmission:
    """Hand the portfolio in: a new numbered submission, with the evidence added since the last
    one."""
    _own_check(actor, portfolio, "workplace.portfolio_submit")
    with transaction.atomic(durable=True):
        portfolio = _lock(portfolio)
        if portfolio.status != PortfolioStatus.DRAFT:
            raise ValidationError(
                f"This portfolio is {portfolio.get_status_display().lower()}: it cannot be "
                "handed in now."
            )
        if not portfolio.evidence.exists():
            raise ValidationError("Add at least one piece of evidence before handing it in.")
        last = portfolio.submissions.aggregate(last=Max("number"))["last"] or 0
        submission = PortfolioSubmission.objects.create(
            portfolio=portfolio,
            number=last + 1,
            submitted_at=timezone.now(),
            submitted_by=actor,
        )
        added = portfolio.evidence.filter(submission__isnull=True).update(submission=submission)
        portfolio.submit()
        portfolio.save()
        audit_record(
            actor=actor,
            action="workplace.portfolio_submit",
            entity=portfolio,
            old_values={"status": PortfolioStatus.DRAFT},
            new_values={
                "status": portfolio.status,
                "submission": submission.number,
                "evidence_added": added,
            },
        )
    return submission


def portfolio_reopen(*, actor: User, portfolio: Portfolio) -> Portfolio:
    """After "not yet competent", the learner works on the evidence again to hand it in once
    more; the earlier submissions and decisions stay."""
    _own_check(actor, portfolio, "workplace.portfolio_reopen")
    with transaction.atomic(durable=True):
        portfolio = _lock(portfolio)
        if portfolio.status != PortfolioStatus.NOT_YET_COMPETENT:
            raise ValidationError("Only a portfolio found not yet competent can be reopened.")
        if ModerationItem.objects.filter(
            submission__portfolio=portfolio, sample__status=SampleStatus.OPEN
        ).exists():
            # The moderator may still change the decision: it must find the portfolio as it was.
            raise ValidationError(
                "A moderator is checking this decision: you can work on the portfolio again "
                "once moderation is complete.",
                code="in_moderation",
            )
        was_final = portfolio.final_at is not None
        portfolio.reopen()
        # The next decision is the learner's result once moderation covers it, not before.
        portfolio.final_at = None
        portfolio.save()
        audit_record(
            actor=actor,
            action="workplace.portfolio_reopen",
            entity=portfolio,
            old_values={"status": PortfolioStatus.NOT_YET_COMPETENT, "final": was_final},
            new_values={"status": portfolio.status, "final": False},
        )
    return portfolio


# --- Assessing --------------------------------------------------------------------------------


def assessor_conflict(actor: User, portfolio: Portfolio) -> str:
    """Why `actor` may not assess `portfolio` whatever their registration: it is their own,
    they mentor (or mentored) the learner, or they wrote or confirmed some of its evidence.
    Empty when none of these."""
    learner_id = (
        CourseEnrollment.objects.filter(pk=portfolio.course_enrollment_id)
        .values_list("enrollment__learner_id", flat=True)
        .first()
    )
    if learner_id is None or actor.pk is None:
        return ""
    if Learner.objects.filter(pk=learner_id, user=actor).exists():
        return "You cannot assess your own portfolio."
    if Mentorship.objects.filter(mentor=actor, placement__learner_id=learner_id).exists():
        return "You mentor this learner at their workplace: another assessor must assess it."
    if portfolio.evidence.filter(
        Q(observation__written_by=actor) | Q(logbook_entry__week__reviewed_by=actor)
    ).exists():
        return "You wrote or confirmed some of this evidence: another assessor must assess it."
    return ""


def portfolio_assess(
    *, actor: User, portfolio: Portfolio, decision: str, feedback: str = ""
) -> PortfolioSubmission:
    """Decide on the latest submission: competent, or not yet competent with feedback. The
    assessor needs an active, unexpired assessor registration covering the programme, recorded
    on the submission; never the learner, their mentor or who wrote or confirmed its evidence
    (assessor_conflict). The learner is told."""
    permission_check(actor=actor, permission=ASSESS, action="workplace.portfolio_assess")
    feedback = feedback.strip()
    if decision not in Decision.values:
        raise ValidationError({"decision": "Choose competent or not yet competent."})
    if decision == Decision.NOT_YET_COMPETENT and not feedback:
        raise ValidationError(
            {"feedback": "Say what is missing: the learner needs feedback to work on."}
        )
    conflict = assessor_conflict(actor, portfolio)
    if conflict:
        raise ValidationError(conflict)
    with transaction.atomic(durable=True):
        portfolio = _lock(portfolio)
        programme_id = portfolio.outcome.course.programme_id
        registration = registration_valid(actor, PractitionerRole.ASSESSOR, programme_id)
        if registration is None:
            raise ValidationError(
                "Assessing needs your active assessor registration that covers "
                f"{portfolio.outcome.course.programme} and has not expired."
            )
        if portfolio.status != PortfolioStatus.SUBMITTED:
            raise ValidationError(
                f"This portfolio is {portfolio.get_status_display().lower()}: there is no "
                "submission waiting for a decision."
            )
        submission = portfolio.submissions.select_for_update().order_by("-number").first()
        if submission is None or submission.decision:
            raise ValidationError("There is no submission waiting for a decision.")
        submission.decision = decision
        submission.feedback = feedback
        submission.assessor = actor
        submission.assessor_registration = registration
        submission.assessed_at = timezone.now()
        submission.save(
            update_fields=[
                "decision",
                "feedback",
                "assessor",
                "assessor_registration",
                "assessed_at",
            ]
        )
        if decision == Decision.COMPETENT:
            portfolio.assess_competent()
        else:
            portfolio.assess_not_yet_competent()
        portfolio.save()
        audit_record(
            actor=actor,
            action="workplace.portfolio_assess",
            entity=portfolio,
            old_values={"status": PortfolioStatus.SUBMITTED},
            new_values={
                "status": portfolio.status,
                "submission": submission.number,
                "assessor_registration": registration.pk,
                "feedback": kept_out(feedback),
            },
        )
        learner = portfolio.course_enrollment.enrollment.learner
        if learner.user is not None and learner.user.is_in_service:
            email_enqueue(
                recipient=learner.user.email,
                template="workplace_portfolio_assessed",
                context={
                    "full_name": learner.full_name,
                    "outcome": f"{portfolio.outcome.code} {portfolio.outcome.title}",
                    "decision": Decision(decision).label,
                    "competent": decision == Decision.COMPETENT,
                    "url": institution_url(
                        tenant_connection.tenant,
                        reverse("workplace:portfolio", args=[portfolio.pk]),
                    ),
                },
            )
    return submission
