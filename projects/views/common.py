"""What every page of one project needs: the project, if `request.user` reaches it (anyone
else gets the audited 404, another learner included), and the context of its header and tabs
(templates/projects/project_base.html)."""

from typing import Any

from django.http import Http404

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_check
from projects.access import is_manager, reaches
from projects.models import InnovationProject
from projects.selectors.review import may_open_review


def project_for(request: AuthenticatedRequest, pk: int, *, page: str) -> InnovationProject:
    """The project `pk` as `request.user` reaches it, or the audited 404 (`page` names the
    refused page in the audit trail)."""
    project = (
        InnovationProject.objects.select_related("programme", "cohort", "created_by")
        .filter(pk=pk)
        .first()
    )
    if project is None:
        raise Http404("No such project.")
    permission_check(
        actor=request.user, action=f"view:projects.{page}", allowed=reaches(request.user, project)
    )
    return project


def project_context(
    request: AuthenticatedRequest, project: InnovationProject, *, tab: str
) -> dict[str, Any]:
    """The header's and the tabs' context; a page adds its own."""
    show_review = may_open_review(request.user, project)
    return {
        "project": project,
        "tab": tab,
        "show_review": show_review,
        # A reviewer who is not on the project came from their reviews, not their projects.
        "from_reviews": show_review
        and not is_manager(request.user)
        and project.created_by_id != request.user.pk
        and not project.members.filter(user=request.user).exists(),
    }
