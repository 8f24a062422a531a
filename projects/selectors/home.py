"""The start page's projects panel (accounts.home; registered in ProjectsConfig.ready): for
managers, the proposals waiting for them and the delayed milestones; for reviewers, the
proposals waiting for their scores; for a project's people, their projects that need them.
One query for anyone, and only the panel's own counts."""

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from accounts.models import User
from projects.access import is_manager
from projects.models import (
    InnovationProject,
    MilestoneStatus,
    ProjectMember,
    ProjectMilestone,
    ProjectStatus,
    ReviewAssignment,
)


def projects_home_panel(user: User) -> dict[str, Any] | None:
    """Counts of what waits for `user` about projects; None when nothing does."""
    if not (user.is_authenticated and user.is_in_service):
        return None
    mine = Q(created_by=user) | Q(
        Exists(
            ProjectMember.objects.filter(project=OuterRef("pk"), user=user, left_date__isnull=True)
        )
    )
    to_score = Q(
        Exists(
            ReviewAssignment.objects.filter(
                project=OuterRef("pk"),
                round=OuterRef("round"),
                reviewer=user,
                submitted_at__isnull=True,
            )
        ),
        status=ProjectStatus.IN_REVIEW,
    )
    delayed = Q(
        Exists(
            ProjectMilestone.objects.filter(project=OuterRef("pk"), status=MilestoneStatus.DELAYED)
        )
    )
    counts = {
        "to_score": Count("pk", filter=to_score),
        "drafts": Count("pk", filter=mine & Q(status=ProjectStatus.DRAFT, round=0)),
        # Drafts already submitted once: sent back for changes, or rejected and revised.
        "to_resubmit": Count("pk", filter=mine & Q(status=ProjectStatus.DRAFT, round__gt=0)),
        "mine_delayed": Count("pk", filter=mine & Q(status=ProjectStatus.IN_PROGRESS) & delayed),
    }
    projects = InnovationProject.objects.all()
    manager = is_manager(user)
    if manager:
        counts |= {
            "submitted": Count("pk", filter=Q(status=ProjectStatus.SUBMITTED)),
            "in_review": Count("pk", filter=Q(status=ProjectStatus.IN_REVIEW)),
            "delayed": Count("pk", filter=delayed),
        }
    else:
        # Only the projects the person is on or reviews: the rest cannot need them.
        projects = projects.filter(
            mine | Q(Exists(ReviewAssignment.objects.filter(project=OuterRef("pk"), reviewer=user)))
        )
    panel: dict[str, Any] = projects.aggregate(**counts)
    if not any(panel.values()):
        return None
    panel["manager"] = manager
    return panel
