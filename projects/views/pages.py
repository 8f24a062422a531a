"""Staff's pages (the projects list and the portfolio) and a project's Overview and Activity
tabs, which everyone who reaches the project sees."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from projects.access import MANAGE_PROJECTS, is_manager, may_edit_proposal
from projects.forms.pages import PortfolioFilterForm, ProjectFilterForm
from projects.selectors.pages import (
    project_activity,
    project_latest_decision,
    project_list,
    project_milestone_summary,
    project_team_summary,
    sees_decisions,
)
from projects.selectors.portfolio import ENDING_WITHIN_DAYS, delayed_milestones, portfolio
from projects.views.common import project_context, project_for


@permission_required(MANAGE_PROJECTS)
def project_list_view(request: AuthenticatedRequest) -> HttpResponse:
    filters = ProjectFilterForm(request.GET or None)
    projects = project_list(**filters.selector_filters())
    return render(
        request,
        "projects/pages/project_list.html",
        {"page": list_page(request, projects), "filters": filters},
    )


@permission_required(MANAGE_PROJECTS)
def portfolio_view(request: AuthenticatedRequest) -> HttpResponse:
    filters = PortfolioFilterForm(request.GET or None)
    chosen = filters.selector_filters()
    return render(
        request,
        "projects/pages/portfolio.html",
        {
            "filters": filters,
            "portfolio": portfolio(**chosen),
            "page": list_page(request, delayed_milestones(**chosen)),
            "ending_within_days": ENDING_WITHIN_DAYS,
        },
    )


@login_required
def project_overview(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="project")
    manager = is_manager(request.user)
    decision = (
        project_latest_decision(project)
        if sees_decisions(request.user, project, manager=manager)
        else None
    )
    return render(
        request,
        "projects/pages/overview.html",
        {
            **project_context(request, project, tab="overview"),
            "team": project_team_summary(project),
            "milestones": project_milestone_summary(project),
            "decision": decision,
            "may_edit": may_edit_proposal(request.user, project),
        },
    )


@login_required
def project_activity_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="activity")
    return render(
        request,
        "projects/pages/activity.html",
        {
            **project_context(request, project, tab="activity"),
            "page": list_page(request, project_activity(project)),
        },
    )
