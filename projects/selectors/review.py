"""What the review pages read: who reviews a project, the rounds of its review as one person may
see them (reviewers are blind to each other's scores until they have submitted their own), the
panel's scores summed up for a decision, a reviewer's queue, and the criteria and panels.

Blindness: a reviewer with an assignment still to score in the round under review sees only
their own form and how many of the panel have scored, never anyone's scores or comments (of
this round or of earlier ones), even if they manage projects. Once they have submitted, they
see every submitted review of the rounds they scored in; a manager who is not a pending
reviewer sees every round's reviews and the per-criterion means."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)

from academics.models import Programme
from accounts.models import SystemRole, User
from learners.models import Learner
from projects.access import is_manager
from projects.models import (
    DECISION_MOVES,
    InnovationProject,
    ProjectMember,
    ProjectStatus,
    ProjectStatusChange,
    ReviewAssignment,
    ReviewCriterion,
    ReviewPanel,
    ReviewScore,
)

# The moves that close a round: a decision, or sending it back for changes.
DECISIONS: dict[str, str] = {
    ProjectStatus.APPROVED: "approve",
    ProjectStatus.REJECTED: "reject",
    ProjectStatus.DRAFT: "send_back",
}
DECISION_LABELS = {"approve": "Approved", "reject": "Rejected", "send_back": "Sent back"}


def possible_reviewers() -> QuerySet[User]:
    """People who may review: in service and not students (learners never review)."""
    return (
        User.objects.filter(is_active=True, deleted_at__isnull=True)
        .exclude(Exists(Learner.objects.filter(user=OuterRef("pk"))))
        .exclude(roles__key=SystemRole.STUDENT)
        .order_by("full_name", "email")
    )


def panel_for(programme: Programme | None) -> ReviewPanel | None:
    """The panel that reviews a programme's proposals: its own, else the one for every
    programme."""
    panels = ReviewPanel.objects.select_related("role", "programme")
    if programme is not None:
        own = panels.filter(programme=programme).first()
        if own is not None:
            return own
    return panels.filter(programme__isnull=True).first()


def panel_people(panel: ReviewPanel) -> QuerySet[User]:
    """The panel's reviewers: the people it names and the holders of its role, as far as they
    may review."""
    named = Q(pk__in=panel.reviewers.values("pk"))
    if panel.role_id is not None:
        named |= Q(pk__in=User.objects.filter(roles=panel.role_id).values("pk"))
    return possible_reviewers().filter(named)


def project_reviewers(project: InnovationProject, panel: ReviewPanel) -> list[User]:
    """Who `panel` asks to review `project`: its people, never a current member of the project
    (a conflict of interest)."""
    members = ProjectMember.objects.filter(project=project, left_date__isnull=True)
    return list(panel_people(panel).exclude(pk__in=members.values("user_id")))


def active_criteria() -> QuerySet[ReviewCriterion]:
    return ReviewCriterion.objects.filter(is_active=True)


def assignment_criteria(assignment: ReviewAssignment) -> list[ReviewCriterion]:
    """The criteria `assignment` is scored against: those fixed when the panel was asked (an
    assignment made before they were fixed: those it was scored on, else the active ones)."""
    order = ("position", "name")
    fixed = list(assignment.criteria.order_by(*order))
    if fixed:
        return fixed
    scored = list(
        ReviewCriterion.objects.filter(
            pk__in=ReviewScore.objects.filter(assignment=assignment).values("criterion_id")
        ).order_by(*order)
    )
    return scored or list(active_criteria().order_by(*order))


NO_PANEL = (
    "No review panel covers this programme: add a panel for it, or one for every programme, "
    "under Review panels."
)
NO_CRITERIA = "There are no active review criteria: add at least one under Review criteria."


@dataclass
class SendPlan:
    """Whom sending a project to its panel would ask, or why it cannot be sent (`problem`, with
    `setup` naming the page that fixes it: "panels" or "criteria")."""

    panel: ReviewPanel | None
    reviewers: list[User]
    problem: str = ""
    setup: str = ""


def send_plan(project: InnovationProject) -> SendPlan:
    panel = panel_for(project.programme)
    if panel is None:
        return SendPlan(panel=None, reviewers=[], problem=NO_PANEL, setup="panels")
    if not active_criteria().exists():
        return SendPlan(panel=panel, reviewers=[], problem=NO_CRITERIA, setup="criteria")
    reviewers = project_reviewers(project, panel)
    if not reviewers:
        return SendPlan(
            panel=panel,
            reviewers=[],
            problem=f"{panel} has no one who may review this proposal (a project's members "
            "never review it, and students never review): add reviewers to the panel.",
            setup="panels",
        )
    return SendPlan(panel=panel, reviewers=reviewers)


def pending_assignment(user: User, project: InnovationProject) -> ReviewAssignment | None:
    """`user`'s assignment still to score in the round under review, if any."""
    if project.status != ProjectStatus.IN_REVIEW or not user.is_authenticated:
        return None
    return ReviewAssignment.objects.filter(
        project=project, round=project.round, reviewer=user, submitted_at__isnull=True
    ).first()


def may_open_review(user: User, project: InnovationProject) -> bool:
    """The Review tab: managers and the people asked to review the project (in any round)."""
    return is_manager(user) or (
        user.is_authenticated
        and user.is_in_service
        and ReviewAssignment.objects.filter(project=project, reviewer=user).exists()
    )


# --- The panel's scores -----------------------------------------------------------------------


def _mean(scores: list[int]) -> float | None:
    if not scores:
        return None
    mean = Decimal(sum(scores)) / len(scores)
    return float(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _round_assignments(project: InnovationProject, round_number: int) -> list[ReviewAssignment]:
    return list(
        ReviewAssignment.objects.filter(project=project, round=round_number)
        .select_related("reviewer")
        .prefetch_related(
            Prefetch("scores", queryset=ReviewScore.objects.select_related("criterion")),
            "criteria",
        )
        .order_by("requested_at", "pk")
    )


def _summary(assignments: list[ReviewAssignment]) -> dict[str, Any]:
    """Per criterion of the round (fixed when the panel was asked, or scored) the mean of the
    submitted scores and their number; per reviewer the total and whether they submitted.
    `assignments` come with their scores and criteria prefetched."""
    by_criterion: dict[int, tuple[ReviewCriterion, list[int]]] = {}
    reviewers = []
    for assignment in assignments:
        for criterion in assignment.criteria.all():
            by_criterion.setdefault(criterion.pk, (criterion, []))
        submitted = assignment.submitted_at is not None
        scores = list(assignment.scores.all()) if submitted else []
        for score in scores:
            by_criterion.setdefault(score.criterion_id, (score.criterion, []))[1].append(
                score.score
            )
        reviewers.append(
            {
                "id": assignment.reviewer_id,
                "submitted": submitted,
                "total": sum(score.score for score in scores) if submitted else None,
            }
        )
    criteria = sorted(by_criterion.values(), key=lambda row: (row[0].position, row[0].name))
    return {
        "criteria": [
            {
                "id": criterion.pk,
                "name": criterion.name,
                "max_score": criterion.max_score,
                "mean": _mean(scores),
                "count": len(scores),
            }
            for criterion, scores in criteria
        ],
        "reviewers": reviewers,
    }


def panel_scores(project: InnovationProject, *, decision: str) -> dict[str, Any]:
    """What a decision on the project's current round records (ProjectStatusChange.
    panel_scores): the round, the decision and the panel's scores as they stand."""
    return {
        "round": project.round,
        "decision": decision,
        **_summary(_round_assignments(project, project.round)),
    }


# --- The Review tab ---------------------------------------------------------------------------


@dataclass
class ReviewerRow:
    """One reviewer of a round: their state, and their scores when the viewer may see them."""

    assignment: ReviewAssignment
    state: str  # "scored", "to_score" or "did_not_score"
    scores: list[ReviewScore] = field(default_factory=list)
    total: int | None = None


@dataclass
class CriterionMean:
    name: str
    max_score: int
    mean: float | None
    count: int


@dataclass
class ReviewRound:
    number: int
    is_current: bool
    reviewers: list[ReviewerRow]
    scored: int
    asked: int
    scores_visible: bool
    means: list[CriterionMean]
    decision: ProjectStatusChange | None
    decision_label: str
    recorded_means: list[CriterionMean]
    own: ReviewAssignment | None
    proposal: dict[str, str]


def _decisions(project: InnovationProject) -> dict[int, ProjectStatusChange]:
    """The move that closed each round (its last decision or sending back)."""
    closing: dict[int, ProjectStatusChange] = {}
    changes = ProjectStatusChange.objects.filter(DECISION_MOVES, project=project).select_related(
        "actor"
    )
    for change in changes:
        closing[change.round] = change
    return closing


def _submissions(project: InnovationProject) -> dict[int, dict[str, str]]:
    """The proposal as submitted in each round (empty for a submission kept before proposals
    were)."""
    submitted: dict[int, dict[str, str]] = {}
    changes = ProjectStatusChange.objects.filter(
        project=project, to_status=ProjectStatus.SUBMITTED
    ).values_list("round", "proposal")
    for number, proposal in changes:
        submitted[number] = proposal
    return submitted


def _state(assignment: ReviewAssignment, *, open_round: bool) -> str:
    if assignment.submitted_at is not None:
        return "scored"
    return "to_score" if open_round else "did_not_score"


def _means(summary: dict[str, Any]) -> list[CriterionMean]:
    return [
        CriterionMean(
            name=row["name"], max_score=row["max_score"], mean=row["mean"], count=row["count"]
        )
        for row in summary.get("criteria", [])
    ]


def review_rounds(*, viewer: User, project: InnovationProject) -> list[ReviewRound]:
    """The project's review rounds as `viewer` may see them, the current one first (see the
    module's note on blindness)."""
    assignments = list(
        ReviewAssignment.objects.filter(project=project)
        .select_related("reviewer")
        .prefetch_related(
            Prefetch("scores", queryset=ReviewScore.objects.select_related("criterion")),
            "criteria",
        )
        .order_by("requested_at", "pk")
    )
    decisions = _decisions(project)
    submissions = _submissions(project)
    numbers = {assignment.round for assignment in assignments} | set(decisions)
    under_review = project.status in (ProjectStatus.SUBMITTED, ProjectStatus.IN_REVIEW)
    if under_review and project.round:
        numbers.add(project.round)
    in_review_now = project.status == ProjectStatus.IN_REVIEW
    blind = any(
        assignment.reviewer_id == viewer.pk
        and assignment.round == project.round
        and assignment.submitted_at is None
        and in_review_now
        for assignment in assignments
    )
    manager = is_manager(viewer)
    rounds = []
    for number in sorted(numbers, reverse=True):
        of_round = [assignment for assignment in assignments if assignment.round == number]
        open_round = in_review_now and number == project.round
        own = next((a for a in of_round if a.reviewer_id == viewer.pk), None)
        visible = not blind and (manager or (own is not None and own.submitted_at is not None))
        rows = []
        for assignment in of_round:
            row = ReviewerRow(
                assignment=assignment, state=_state(assignment, open_round=open_round)
            )
            if visible and row.state == "scored":
                row.scores = list(assignment.scores.all())
                row.total = sum(score.score for score in row.scores)
            rows.append(row)
        decision = decisions.get(number)
        rounds.append(
            ReviewRound(
                number=number,
                is_current=number == project.round,
                reviewers=rows,
                scored=sum(1 for a in of_round if a.submitted_at is not None),
                asked=len(of_round),
                scores_visible=visible,
                means=_means(_summary(of_round)) if visible else [],
                decision=decision,
                decision_label=DECISION_LABELS[DECISIONS[decision.to_status]] if decision else "",
                recorded_means=_means(decision.panel_scores) if decision and visible else [],
                own=own,
                proposal=submissions.get(number, {}),
            )
        )
    return rounds


# --- Lists ------------------------------------------------------------------------------------


def my_review_queue(user: User) -> QuerySet[ReviewAssignment]:
    """`user`'s review requests: those still to score (the round under review), then those
    done or closed, latest first."""
    to_score = Q(
        submitted_at__isnull=True,
        project__status=ProjectStatus.IN_REVIEW,
        round=F("project__round"),
    )
    return (
        ReviewAssignment.objects.filter(reviewer=user)
        .select_related("project__programme")
        .annotate(is_open=ExpressionWrapper(to_score, output_field=BooleanField()))
        .order_by("-is_open", "-requested_at", "-pk")
    )


def criteria_list() -> QuerySet[ReviewCriterion]:
    """Every criterion, active first in their order, with whether it has been scored."""
    return ReviewCriterion.objects.annotate(
        has_scores=Exists(ReviewScore.objects.filter(criterion=OuterRef("pk")))
    ).order_by("-is_active", "position", "name")


def panel_list() -> QuerySet[ReviewPanel]:
    """The panels: the one for every programme first, then by programme."""
    return (
        ReviewPanel.objects.select_related("programme", "role")
        .prefetch_related(Prefetch("reviewers", queryset=User.objects.order_by("full_name")))
        .order_by(F("programme__name").asc(nulls_first=True))
    )
