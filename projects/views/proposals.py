"""The proposal pages: My projects, starting a proposal, the proposal form (saved as the
proposer types, through htmx, and by its Save button without JavaScript), and the confirm pages
that submit, revise and delete a proposal.

Anyone who does not reach a project gets the audited 404 (projects.views.common.project_for);
someone who reaches it but may not do what the page does (a member who is not the leader, a
proposal no longer a draft) is told why and sent back. Every write goes through
projects.services.proposals."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check
from accounts.refusals import refusal_show
from projects.access import may_edit_proposal, may_lead, may_propose
from projects.forms.proposals import ProposalForm, ProposalStartForm
from projects.models import InnovationProject, ProjectStatus
from projects.selectors.proposals import latest_return, my_projects_grouped
from projects.services.proposals import (
    FIELD_LABELS,
    NEEDED_FOR_REVIEW,
    proposal_create,
    proposal_delete,
    proposal_missing,
    proposal_revise,
    proposal_submit,
    proposal_update,
)
from projects.views.common import project_context, project_for

SUBMIT = "submit"


def _edit_url(project: InnovationProject) -> str:
    return reverse("projects:proposal_edit", args=[project.pk])


def _no_longer_editable(request: AuthenticatedRequest, project: InnovationProject) -> HttpResponse:
    if project.status == ProjectStatus.DRAFT:
        messages.error(request, "Only the project's leader changes its proposal.")
    else:
        messages.error(
            request,
            f"This proposal is {project.get_status_display().lower()}: it can no longer be "
            "changed.",
        )
    return redirect("projects:my_projects")


@login_required
def my_projects(request: AuthenticatedRequest) -> HttpResponse:
    """The projects the person is or was on, or proposed: those still going, then finished."""
    current, finished = my_projects_grouped(request.user)
    return render(
        request,
        "projects/proposals/my_projects.html",
        {
            "current": current,
            "finished": list_page(request, finished),
            "may_propose": may_propose(request.user),
        },
    )


@login_required
def proposal_new(request: AuthenticatedRequest) -> HttpResponse:
    """A title and the kind of project start the draft; the rest is written on its form."""
    permission_check(
        actor=request.user, action="view:projects.proposal_new", allowed=may_propose(request.user)
    )
    form = ProposalStartForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            project = proposal_create(
                actor=request.user,
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"],
                programme=form.cleaned_data.get("programme"),
                cohort=form.cleaned_data.get("cohort"),
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request, "Your draft is started. It is saved as you type: take your time."
            )
            return redirect(_edit_url(project))
    return render(
        request,
        "projects/proposals/new.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _proposal_save(
    request: AuthenticatedRequest, project: InnovationProject, form: ProposalForm
) -> tuple[InnovationProject, list[str]]:
    """Save the fields of `form` that passed their checks; a refusal goes onto the form."""
    form.is_valid()
    try:
        return proposal_update(actor=request.user, project=project, **form.valid_values())
    except ValidationError as error:
        refusal_show(form, error)
        return project, []


@login_required
@never_cache
def proposal_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The whole proposal. Save keeps it a draft; "Submit for review" saves and goes on to the
    submit page."""
    project = project_for(request, pk, page="proposal_edit")
    if not may_edit_proposal(request.user, project):
        return _no_longer_editable(request, project)
    if request.method == "POST":
        form = ProposalForm(request.POST, instance=project, user=request.user)
        project, _changed = _proposal_save(request, project, form)
        if not form.errors:
            if request.POST.get("next") == SUBMIT:
                return redirect("projects:proposal_submit", pk=project.pk)
            messages.success(request, "Your draft is saved.")
            return redirect(_edit_url(project))
    else:
        form = ProposalForm(instance=project, user=request.user)
    return render(
        request,
        "projects/proposals/edit.html",
        {
            **project_context(request, project, tab="overview"),
            "form": form,
            "returned": latest_return(project),
            "may_delete": project.round == 0 and may_lead(request.user, project),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def proposal_autosave(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The form's htmx autosave: saves what passed its checks and answers with the saved time
    and, out of band, each field's error (or none)."""
    project = project_for(request, pk, page="proposal_autosave")
    form = ProposalForm(request.POST, instance=project, user=request.user)
    refusal = ""
    if may_edit_proposal(request.user, project):
        project, _changed = _proposal_save(request, project, form)
        project.refresh_from_db(fields=["updated_at"])
    else:
        refusal = (
            f"This proposal is {project.get_status_display().lower()}: it can no longer be "
            "changed. Reload the page to see where it stands."
        )
    return render(
        request,
        "projects/proposals/_autosave.html",
        {"project": project, "form": form, "refusal": refusal},
    )


def _reviewer_sees(project: InnovationProject) -> list[tuple[str, str, object]]:
    """What a reviewer reads, field by field: (name, label, value)."""
    return [
        (name, FIELD_LABELS[name].capitalize(), getattr(project, name))
        for name in NEEDED_FOR_REVIEW
    ]


@login_required
@never_cache
def proposal_submit_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """What reviewers will see and anything still missing; POST hands it in."""
    project = project_for(request, pk, page="proposal_submit")
    if project.status != ProjectStatus.DRAFT or not may_lead(request.user, project):
        return _no_longer_editable(request, project)
    refusals: list[str] = []
    if request.method == "POST":
        try:
            project = proposal_submit(actor=request.user, project=project)
        except ValidationError as error:
            refusals = (
                list(error.message_dict.get("__all__", []))
                if hasattr(error, "error_dict")
                else error.messages
            )
        else:
            messages.success(
                request,
                "Your proposal is submitted for review. You will hear from us when a decision "
                "is made.",
            )
            return redirect("projects:my_projects")
    missing = proposal_missing(project)
    return render(
        request,
        "projects/proposals/submit.html",
        {
            **project_context(request, project, tab="overview"),
            "fields": _reviewer_sees(project),
            "missing": [(name, FIELD_LABELS[name]) for name in missing],
            "refusals": refusals,
        },
        status=400 if refusals else 200,
    )


@login_required
@never_cache
def proposal_revise_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Why it was rejected; POST turns it back into a draft to rework."""
    project = project_for(request, pk, page="proposal_revise")
    if project.status != ProjectStatus.REJECTED or not may_lead(request.user, project):
        messages.error(request, "Only a rejected proposal is revised, by its leader.")
        return redirect("projects:my_projects")
    if request.method == "POST":
        try:
            project = proposal_revise(actor=request.user, project=project)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("projects:my_projects")
        messages.success(
            request,
            "Your proposal is a draft again. Rework it with the reviewers' reasons in mind, then "
            f"submit it again: it will be submission {project.round + 1}.",
        )
        return redirect(_edit_url(project))
    return render(
        request,
        "projects/proposals/revise.html",
        {**project_context(request, project, tab="overview"), "returned": latest_return(project)},
    )


@login_required
@never_cache
def proposal_delete_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Confirm, then delete a draft never submitted."""
    project = project_for(request, pk, page="proposal_delete")
    if (
        project.status != ProjectStatus.DRAFT
        or project.round
        or not may_lead(request.user, project)
    ):
        messages.error(
            request, "Only a draft never submitted can be deleted, by the project's leader."
        )
        return redirect("projects:my_projects")
    if request.method == "POST":
        title = project.title
        try:
            proposal_delete(actor=request.user, project=project)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"The draft “{title}” is deleted.")
        return redirect("projects:my_projects")
    return render(
        request,
        "projects/proposals/delete.html",
        project_context(request, project, tab="overview"),
    )
