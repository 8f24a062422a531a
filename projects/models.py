"""Innovation projects (seed 004: innovation_projects, project_members, project_milestones).

Learners and staff propose projects (a learnership's workplace project, a student venture, a
research idea); a panel of reviewers scores each submission against the institution's criteria
and the institution decides; approved projects run with their members, mentors and milestones.

- A project moves draft → submitted → in_review → approved or rejected, approved → in_progress
  → completed. Sending back for changes returns it to draft with a reason; a rejected project
  may be revised into a new draft, its next submission a new round. Every move is kept as a
  ProjectStatusChange (with the reason and, for a decision, the panel's scores).
- One current leader per project (a constraint, and the services hand over rather than leave
  a project without one); a person holds a role on a project once at a time (seed: unique
  project, user and role), and leaving keeps the record with its date.
- Reviewers are named per programme (or for every programme) as a panel of people, a role,
  or both; sending a submission for review asks each of them (a ReviewAssignment per round),
  and each scores every active criterion with a comment.

Written only by projects.services; pages read through projects.selectors."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from enrolments.evidence import StoredEvidence


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class ProjectKind(models.TextChoices):
    WORKPLACE = "workplace", "Workplace project"
    VENTURE = "venture", "Student venture"
    RESEARCH = "research", "Research idea"
    OTHER = "other", "Other"


class InnovationProject(ConcurrentTransitionMixin, models.Model):
    """A proposal and, once approved, the project it became (seed 004: innovation_projects)."""

    title = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=ProjectKind.choices, default=ProjectKind.OTHER)
    description = models.TextField(blank=True)
    problem_statement = models.TextField(
        blank=True, help_text="The problem the project sets out to solve, and for whom."
    )
    objectives = models.TextField(blank=True, help_text="What the project will do.")
    expected_outcomes = models.TextField(
        blank=True, help_text="What will be different when it is done, and how you will know."
    )
    programme = models.ForeignKey(
        "academics.Programme",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="innovation_projects",
        help_text="The programme whose review panel reviews it.",
    )
    cohort = models.ForeignKey(
        "cohorts.Cohort",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="innovation_projects",
    )
    status = FSMField(
        max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT, protected=True
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    round = models.PositiveSmallIntegerField(
        default=0, help_text="How many times it has been submitted (each submission is a round)."
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="innovation_projects_created",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["status", "-updated_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="project_ends_after_it_starts",
            )
        ]
        permissions = [
            (
                "manage_projects",
                "Follow every innovation project: the list and the portfolio, review panels and "
                "criteria, sending proposals for review and deciding on them, members and "
                "milestones.",
            ),
            (
                "propose_projects",
                "Propose innovation projects and lead them (learners always may).",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("projects:project", args=[self.pk])

    # Transitions: called only by projects.services, which check who acts and record the
    # change.

    @transition(field=status, source=ProjectStatus.DRAFT, target=ProjectStatus.SUBMITTED)
    def submit(self) -> None:
        """A draft handed in: a new round."""

    @transition(field=status, source=ProjectStatus.SUBMITTED, target=ProjectStatus.IN_REVIEW)
    def review_start(self) -> None:
        """The panel has been asked to score it."""

    @transition(
        field=status,
        source=[ProjectStatus.SUBMITTED, ProjectStatus.IN_REVIEW],
        target=ProjectStatus.DRAFT,
    )
    def send_back(self) -> None:
        """Returned to its proposers for changes (with a reason)."""

    @transition(field=status, source=ProjectStatus.IN_REVIEW, target=ProjectStatus.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=status, source=ProjectStatus.IN_REVIEW, target=ProjectStatus.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=status, source=ProjectStatus.REJECTED, target=ProjectStatus.DRAFT)
    def revise(self) -> None:
        """A rejected proposal reworked into a new draft; its history stays."""

    @transition(field=status, source=ProjectStatus.APPROVED, target=ProjectStatus.IN_PROGRESS)
    def start(self) -> None:
        pass

    @transition(field=status, source=ProjectStatus.IN_PROGRESS, target=ProjectStatus.COMPLETED)
    def complete(self) -> None:
        pass


# The moves that carry the institution's word on a submission: its decision (approve, reject)
# or sending it back for changes. DECISION_STATUSES are their to_status values; DECISION_MOVES
# the filter on ProjectStatusChange, which also asks for a submission under review as the
# from_status, since revising a rejected proposal moves it to draft too.
DECISION_STATUSES = (ProjectStatus.APPROVED, ProjectStatus.REJECTED, ProjectStatus.DRAFT)
DECISION_MOVES = Q(
    from_status__in=[ProjectStatus.SUBMITTED, ProjectStatus.IN_REVIEW],
    to_status__in=DECISION_STATUSES,
)


class ProjectStatusChange(models.Model):
    """One move of a project's status, kept: who moved it, why (a reason is required to send
    back or reject), and for a decision the panel's scores as they stood (see
    projects.services.review)."""

    project = models.ForeignKey(
        InnovationProject, on_delete=models.CASCADE, related_name="status_changes"
    )
    round = models.PositiveSmallIntegerField()
    from_status = models.CharField(max_length=20, choices=ProjectStatus.choices)
    to_status = models.CharField(max_length=20, choices=ProjectStatus.choices)
    reason = models.TextField(blank=True)
    panel_scores = models.JSONField(
        default=dict,
        blank=True,
        help_text="For a decision: each criterion's mean and each reviewer's total.",
    )
    proposal = models.JSONField(
        default=dict,
        blank=True,
        help_text="For a submission: the proposal as submitted, the text its reviewers scored.",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["project", "at"])]

    def __str__(self) -> str:
        return f"{self.project}: {self.from_status} → {self.to_status}"


# --- Members ----------------------------------------------------------------------------------


class MemberRole(models.TextChoices):
    LEADER = "leader", "Leader"
    MEMBER = "member", "Member"
    MENTOR = "mentor", "Mentor"
    ADVISOR = "advisor", "Advisor"


class ProjectMember(models.Model):
    """A person on a project in a role (seed 004: project_members). Learners, staff and host
    organisations' members may be members. Leaving sets `left_date` and keeps the row."""

    project = models.ForeignKey(InnovationProject, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="project_memberships"
    )
    role = models.CharField(max_length=20, choices=MemberRole.choices)
    joined_date = models.DateField()
    left_date = models.DateField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["left_date", "role", "joined_date", "pk"]
        indexes = [models.Index(fields=["user", "left_date"])]
        constraints = [
            # Seed: unique (project, user, role); past memberships are kept beside a new one.
            models.UniqueConstraint(
                fields=["project", "user", "role"],
                condition=Q(left_date__isnull=True),
                name="project_member_unique_current_role",
            ),
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(role="leader", left_date__isnull=True),
                name="project_one_current_leader",
            ),
            models.CheckConstraint(
                condition=Q(left_date__isnull=True) | Q(left_date__gte=models.F("joined_date")),
                name="project_member_leaves_after_joining",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def is_current(self) -> bool:
        return self.left_date is None


# --- Milestones -------------------------------------------------------------------------------


class MilestoneStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    DELAYED = "delayed", "Delayed"


class ProjectMilestone(ConcurrentTransitionMixin, models.Model):
    """A step of a project with its due date (seed 004: project_milestones). Overdue milestones
    are marked delayed by a daily task, which tells the leader and the mentors once; completing
    one records its evidence (a file, a link, or both)."""

    project = models.ForeignKey(
        InnovationProject, on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    due_date = models.DateField()
    completed_date = models.DateField(null=True, blank=True)
    status = FSMField(
        max_length=20,
        choices=MilestoneStatus.choices,
        default=MilestoneStatus.PENDING,
        protected=True,
    )
    evidence_link = models.URLField(
        max_length=500, blank=True, help_text="A link to what shows it done (optional)."
    )
    evidence_note = models.TextField(blank=True)
    delay_notified_for = models.DateField(
        null=True,
        blank=True,
        help_text="The due date last reported as missed (a new due date is reported again).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.title

    @transition(
        field=status,
        source=[MilestoneStatus.PENDING, MilestoneStatus.DELAYED],
        target=MilestoneStatus.IN_PROGRESS,
    )
    def start(self) -> None:
        pass

    @transition(
        field=status,
        source=[MilestoneStatus.PENDING, MilestoneStatus.IN_PROGRESS, MilestoneStatus.DELAYED],
        target=MilestoneStatus.COMPLETED,
    )
    def complete(self) -> None:
        pass

    @transition(
        field=status,
        source=[MilestoneStatus.PENDING, MilestoneStatus.IN_PROGRESS],
        target=MilestoneStatus.DELAYED,
    )
    def mark_delayed(self) -> None:
        """Past its due date and not completed (the daily task)."""

    @transition(
        field=status,
        source=[MilestoneStatus.DELAYED, MilestoneStatus.IN_PROGRESS],
        target=MilestoneStatus.PENDING,
    )
    def reschedule(self) -> None:
        """Given a due date still to come."""


class MilestoneEvidence(StoredEvidence):
    """A file that shows a milestone done, added when it is completed (beside or instead of a
    link); served only to people who reach the project."""

    milestone = models.ForeignKey(
        ProjectMilestone, on_delete=models.CASCADE, related_name="evidence"
    )

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name_plural = "milestone evidence"


# --- Review -----------------------------------------------------------------------------------


class ReviewCriterion(models.Model):
    """One of the institution's criteria a reviewer scores every submission against."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, help_text="What a reviewer looks for.")
    max_score = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Scores run from 0 to this.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(
        default=True, help_text="Untick to stop scoring against it (past scores stay)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "review criteria"

    def __str__(self) -> str:
        return self.name


class ReviewPanel(models.Model):
    """Who reviews the proposals of a programme (or, without one, of every programme that has
    no panel of its own): the people named, everyone holding `role`, or both."""

    programme = models.OneToOneField(
        "academics.Programme",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="project_review_panel",
    )
    role = models.ForeignKey(
        "accounts.Role",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Everyone holding this role reviews.",
    )
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme"], nulls_distinct=False, name="project_one_panel_per_programme"
            )
        ]

    def __str__(self) -> str:
        return f"Review panel: {self.programme or 'every programme'}"


class ReviewAssignment(models.Model):
    """A reviewer asked to score one round of a project. Until they submit, they see no one
    else's scores; once submitted, their scores are final."""

    project = models.ForeignKey(
        InnovationProject, on_delete=models.CASCADE, related_name="review_assignments"
    )
    round = models.PositiveSmallIntegerField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="project_reviews"
    )
    criteria = models.ManyToManyField(
        ReviewCriterion,
        blank=True,
        related_name="+",
        help_text="The criteria of this round, fixed when the panel was asked.",
    )
    comments = models.TextField(blank=True, help_text="Your overall view, for the panel.")
    requested_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        indexes = [models.Index(fields=["reviewer", "submitted_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "round", "reviewer"], name="project_review_once_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.project} (round {self.round})"


class ReviewScore(models.Model):
    """A reviewer's score against one criterion, with their comment."""

    assignment = models.ForeignKey(
        ReviewAssignment, on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(ReviewCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["criterion__position", "criterion__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "criterion"], name="project_score_once_per_criterion"
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.score}"
