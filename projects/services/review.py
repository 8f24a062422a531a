"""Reviewing a submitted proposal and deciding on it.

- A manager sends a submitted proposal to its programme's panel (else the panel for every
  programme): each of the panel's people and holders of its role, in service and not a current
  member of the project, is asked to score this round and e-mailed a link. Without a panel, a
  reviewer left or an active criterion, sending is refused with what to set up.
- A reviewer scores every criterion of the round (those active when the panel was asked, 0 to
  its maximum) with a comment, and adds overall comments; submitting is final, and refused
  once the reviewer has become a current member of the project. When the last of the round's
  reviewers has submitted, the managers are told (once).
- A manager approves or rejects a proposal in review, or sends it back for changes (from
  submitted or in review). Rejecting and sending back need a reason; approving or rejecting
  needs at least one submitted review, and deciding while reviewers are still to score needs
  the manager to say so. The decision keeps the panel's scores (ProjectStatusChange.
  panel_scores); the leader and current members are e-mailed the decision and its reason.
  Reviews not submitted stay, shown as not scored."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from accounts.selectors import users_with_permission
from audit.services import audit_record
from notifications.services import email_enqueue
from projects.access import MANAGE_PROJECTS
from projects.models import (
    InnovationProject,
    ProjectMember,
    ProjectStatus,
    ReviewAssignment,
    ReviewCriterion,
    ReviewScore,
)
from projects.selectors.review import (
    DECISION_LABELS,
    active_criteria,
    assignment_criteria,
    panel_scores,
    send_plan,
)
from projects.services.history import project_locked, project_move
from tenants.sites import current_institution_url

# decision → (the transition, the audit action)
DECISION_MOVES = {
    "approve": ("approve", "project.approve"),
    "reject": ("reject", "project.reject"),
    "send_back": ("send_back", "project.send_back"),
}
NEEDS_REASON = ("reject", "send_back")
NEEDS_REVIEW = ("approve", "reject")


def review_send(*, actor: User, project: InnovationProject) -> list[ReviewAssignment]:
    """Ask the panel to score the project's round: submitted → in review."""
    permission_check(actor=actor, permission=MANAGE_PROJECTS, action="project.review_send")
    with transaction.atomic(durable=True):
        project = project_locked(project)
        if project.status != ProjectStatus.SUBMITTED:
            raise ValidationError(
                f"This project is {project.get_status_display().lower()}: only a submitted "
                "proposal is sent to the panel."
            )
        plan = send_plan(project)
        if plan.problem or plan.panel is None:
            raise ValidationError(plan.problem)
        panel, reviewers = plan.panel, plan.reviewers
        project_move(project, "review_start", actor=actor, action="project.review_send")
        criteria = list(active_criteria())
        assignments = [
            ReviewAssignment.objects.create(project=project, round=project.round, reviewer=user)
            for user in reviewers
        ]
        for assignment in assignments:
            assignment.criteria.set(criteria)
        audit_record(
            actor=actor,
            action="project.review_assign",
            entity=project,
            new_values={
                "round": project.round,
                "panel": panel.pk,
                "reviewers": [user.pk for user in reviewers],
                "criteria": [criterion.name for criterion in criteria],
            },
        )
        score_url = current_institution_url(reverse("projects:review_score", args=[project.pk]))
        for user in reviewers:
            email_enqueue(
                recipient=user.email,
                template="project_review_request",
                context={
                    "full_name": user.full_name,
                    "project_title": project.title,
                    "programme": str(project.programme) if project.programme else "",
                    "url": score_url,
                },
            )
    return assignments


def _scores_check(
    scores: dict[int, tuple[int, str]], criteria: list[ReviewCriterion]
) -> dict[int, tuple[int, str]]:
    """A score for every criterion of the round, each within 0 and its maximum: the cleaned scores.
    Errors are keyed `score_<criterion id>` (the scoring form's fields)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[int, tuple[int, str]] = {}
    for criterion in criteria:
        given = scores.get(criterion.pk)
        key = f"score_{criterion.pk}"
        if given is None:
            errors[key] = [f"Score {criterion.name}."]
            continue
        score, comment = given
        if not 0 <= score <= criterion.max_score:
            errors[key] = [f"Score {criterion.name} from 0 to {criterion.max_score}."]
            continue
        cleaned[criterion.pk] = (score, comment.strip())
    unknown = set(scores) - {criterion.pk for criterion in criteria}
    if unknown:
        errors.setdefault("__all__", []).append(
            "Some scores are for criteria this round does not use: reload the page and score again."
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


def review_submit(
    *,
    actor: User,
    assignment: ReviewAssignment,
    scores: dict[int, tuple[int, str]],
    comments: str,
) -> ReviewAssignment:
    """The reviewer's scores for their assignment (`scores`: criterion id → score and
    comment), final once submitted."""
    permission_check(
        actor=actor,
        action="project.review_submit",
        allowed=actor.is_in_service and assignment.reviewer_id == actor.pk,
    )
    with transaction.atomic(durable=True):
        project = project_locked(assignment.project)
        assignment = ReviewAssignment.objects.select_for_update().get(pk=assignment.pk)
        if assignment.submitted_at is not None:
            raise ValidationError("You have submitted your scores already: they are final.")
        if project.status != ProjectStatus.IN_REVIEW or assignment.round != project.round:
            raise ValidationError(
                "This proposal is no longer in review for this round: your scores are not "
                "needed any more."
            )
        if ProjectMember.objects.filter(
            project=project, user_id=assignment.reviewer_id, left_date__isnull=True
        ).exists():
            raise ValidationError(
                "You are now a member of this project: a project's members never review it. "
                "Ask a project manager to record the review without you."
            )
        criteria = assignment_criteria(assignment)
        cleaned = _scores_check(scores, criteria)
        ReviewScore.objects.bulk_create(
            ReviewScore(assignment=assignment, criterion_id=pk, score=score, comment=comment)
            for pk, (score, comment) in cleaned.items()
        )
        assignment.comments = comments.strip()
        assignment.submitted_at = timezone.now()
        assignment.save(update_fields=["comments", "submitted_at"])
        names = {criterion.pk: criterion.name for criterion in criteria}
        audit_record(
            actor=actor,
            action="project.review_submit",
            entity=assignment,
            new_values={
                "project": project.pk,
                "round": assignment.round,
                "scores": {names[pk]: score for pk, (score, _) in cleaned.items()},
            },
        )
        still_to_score = ReviewAssignment.objects.filter(
            project=project, round=project.round, submitted_at__isnull=True
        )
        if not still_to_score.exists():
            _panel_done_tell(project)
    return assignment


def _panel_done_tell(project: InnovationProject) -> None:
    """Every reviewer of the round has scored: the managers may decide."""
    url = current_institution_url(reverse("projects:decide", args=[project.pk]))
    for manager in users_with_permission(MANAGE_PROJECTS):
        email_enqueue(
            recipient=manager.email,
            template="project_review_done",
            context={
                "full_name": manager.full_name,
                "project_title": project.title,
                "round": project.round,
                "url": url,
            },
        )


def _decision_check(
    project: InnovationProject, *, decision: str, reason: str, without_missing: bool
) -> None:
    if decision not in DECISION_MOVES:
        raise ValidationError({"decision": ["Choose approve, reject or send back."]})
    if decision in NEEDS_REASON and not reason:
        what = "why it is rejected" if decision == "reject" else "what to change"
        raise ValidationError({"reason": [f"Give the reason: the proposers are told {what}."]})
    if decision not in NEEDS_REVIEW:
        return
    if project.status != ProjectStatus.IN_REVIEW:
        raise ValidationError(
            f"This project is {project.get_status_display().lower()}: a proposal is approved "
            "or rejected once the panel has reviewed it. Send it to the panel first."
        )
    assignments = ReviewAssignment.objects.filter(project=project, round=project.round)
    if not assignments.filter(submitted_at__isnull=False).exists():
        raise ValidationError(
            "No reviewer has scored this proposal yet: wait for at least one review, or send "
            "it back for changes."
        )
    missing = assignments.filter(submitted_at__isnull=True).count()
    if missing and not without_missing:
        raise ValidationError(
            {
                "without_missing": [
                    f"{missing} reviewer{'s have' if missing > 1 else ' has'} not scored yet: "
                    "tick the box to decide without their scores, or wait."
                ]
            }
        )


def project_decide(
    *,
    actor: User,
    project: InnovationProject,
    decision: str,
    reason: str,
    without_missing: bool = False,
) -> InnovationProject:
    """Approve, reject or send back the project's round (`decision`: "approve", "reject" or
    "send_back"), keeping the panel's scores; the leader and current members are told."""
    permission_check(actor=actor, permission=MANAGE_PROJECTS, action=f"project.{decision}")
    reason = reason.strip()
    with transaction.atomic(durable=True):
        project = project_locked(project)
        _decision_check(project, decision=decision, reason=reason, without_missing=without_missing)
        transition, action = DECISION_MOVES[decision]
        project_move(
            project,
            transition,
            actor=actor,
            action=action,
            reason=reason,
            panel_scores=panel_scores(project, decision=decision),
        )
        _decision_tell(project, decision=decision, reason=reason)
    return project


def _decision_tell(project: InnovationProject, *, decision: str, reason: str) -> None:
    people = (
        User.objects.filter(
            pk__in=ProjectMember.objects.filter(project=project, left_date__isnull=True).values(
                "user_id"
            ),
            is_active=True,
            deleted_at__isnull=True,
        )
        .order_by("pk")
        .distinct()
    )
    for person in people:
        email_enqueue(
            recipient=person.email,
            template="project_decision",
            context={
                "full_name": person.full_name,
                "project_title": project.title,
                "project_id": project.pk,
                "decision": decision,
                "decision_label": DECISION_LABELS[decision].lower(),
                "reason": reason,
                "site": current_institution_url("/").rstrip("/"),
            },
        )
