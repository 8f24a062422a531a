"""A project's team and its running: the Members tab (adding people found by a search, handing
the lead over, leaving), the Milestones tab (a timeline; planning, starting and completing
milestones with evidence, the evidence files) and starting and completing the project. Anyone
who does not reach the project gets the audited 404 (projects.views.common.project_for)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_check
from accounts.refusals import refusal_show
from enrolments.evidence import evidence_document_type, evidence_is_readable
from enrolments.scanning import upload_scan_status
from enrolments.uploads import (
    StorageFailed,
    UploadGuard,
    checked_upload_store,
    max_size_bytes,
    stored_file_response,
)
from projects.access import (
    FINISHED,
    current_roles,
    is_manager,
    may_lead,
    may_manage_team,
    may_work_on,
)
from projects.forms.team import (
    LeaderChangeForm,
    MemberAddForm,
    MilestoneCompleteForm,
    MilestoneForm,
)
from projects.models import (
    InnovationProject,
    MemberRole,
    MilestoneEvidence,
    MilestoneStatus,
    ProjectMember,
    ProjectMilestone,
    ProjectStatus,
)
from projects.selectors.team import (
    LEADER_SEARCH_LIMIT,
    LEADER_SEARCH_MIN_LENGTH,
    MANAGER_SEARCH_LIMIT,
    current_leader,
    people_found,
    project_members,
    project_timeline,
)
from projects.services.members import leader_change, member_add, member_leave
from projects.services.milestones import (
    milestone_add,
    milestone_complete,
    milestone_delete,
    milestone_edit,
    milestone_start,
    project_complete,
    project_start,
)
from projects.views.common import project_context, project_for

EVIDENCE_DOCUMENT = "Milestone evidence"


def _team_context(
    request: AuthenticatedRequest, project: InnovationProject, *, tab: str
) -> dict[str, Any]:
    """The tab's frame and the project's own buttons (start, complete)."""
    runs = may_lead(request.user, project)
    return {
        **project_context(request, project, tab=tab),
        "may_start": runs and project.status == ProjectStatus.APPROVED,
        "may_complete": runs and project.status == ProjectStatus.IN_PROGRESS,
    }


def _allowed_check(request: AuthenticatedRequest, page: str, allowed: bool) -> None:
    permission_check(actor=request.user, action=f"view:projects.{page}", allowed=allowed)


# --- Members ----------------------------------------------------------------------------------


@login_required
def members(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="members")
    everyone = project_members(project)
    manages = may_manage_team(request.user, project)
    current = [membership for membership in everyone if membership.is_current]
    open_team = project.status not in FINISHED
    # The leader's own button leads to the page that explains handing over first.
    rows: list[dict[str, Any]] = [
        {
            "membership": membership,
            "own": membership.user_id == request.user.pk,
            "may_leave": open_team
            and (
                membership.user_id == request.user.pk
                or (manages and membership.role != MemberRole.LEADER)
            ),
        }
        for membership in current
    ]
    return render(
        request,
        "projects/team/members.html",
        {
            **_team_context(request, project, tab="members"),
            "groups": [
                (label, [row for row in rows if row["membership"].role == role])
                for role, label in (
                    (MemberRole.LEADER, "Leader"),
                    (MemberRole.MEMBER, "Members"),
                    (MemberRole.MENTOR, "Mentors"),
                    (MemberRole.ADVISOR, "Advisors"),
                )
            ],
            "past": [membership for membership in everyone if not membership.is_current],
            "may_manage": manages,
        },
    )


def _posted_choice(request: AuthenticatedRequest) -> QueryDict | None:
    """The posted form, unless the Search button sent it (the search without script)."""
    if request.method != "POST" or "search" in request.POST:
        return None
    return request.POST


def _person_form_page(
    request: AuthenticatedRequest,
    project: InnovationProject,
    *,
    form: BaseForm,
    template: str,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """A page with the person search: the search field fills the results with htmx (or, without
    script, by the Search button), each result a radio button of the form's `user` field."""
    query = request.GET.get("q", request.POST.get("q", "")).strip()
    chosen = request.POST.get("user", "")
    manages_all = is_manager(request.user)
    context = {
        **_team_context(request, project, tab="members"),
        "form": form,
        "query": query,
        "people": people_found(query, actor=request.user, project=project),
        "chosen": chosen,
        "manages_all": manages_all,
        "search_limit": MANAGER_SEARCH_LIMIT if manages_all else LEADER_SEARCH_LIMIT,
        "min_length": LEADER_SEARCH_MIN_LENGTH,
        "too_short": not manages_all and len(query) < LEADER_SEARCH_MIN_LENGTH,
        **(extra or {}),
    }
    if request.htmx and request.method == "GET":
        return render(request, "projects/team/_people_results.html", context)
    return render(request, template, context, status=status)


@login_required
def member_add_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="member_add")
    _allowed_check(request, "member_add", may_manage_team(request.user, project))
    form = MemberAddForm(_posted_choice(request), actor=request.user, project=project)
    if form.is_bound and form.is_valid():
        try:
            membership = member_add(
                actor=request.user,
                project=project,
                user=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as refusal:
            refusal_show(form, refusal)
        else:
            messages.success(
                request,
                f"{membership.user} is now a {membership.get_role_display().lower()} of the "
                "project.",
            )
            return redirect("projects:members", project.pk)
    return _person_form_page(
        request,
        project,
        form=form,
        template="projects/team/member_add.html",
        status=400 if form.errors else 200,
    )


@login_required
def leader_change_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="leader_change")
    _allowed_check(request, "leader_change", may_manage_team(request.user, project))
    form = LeaderChangeForm(
        _posted_choice(request),
        actor=request.user,
        project=project,
        initial={"stays_as_member": True},
    )
    if form.is_bound and form.is_valid():
        try:
            leader = leader_change(
                actor=request.user,
                project=project,
                new_leader=form.cleaned_data["user"],
                stays_as_member=form.cleaned_data["stays_as_member"],
            )
        except ValidationError as refusal:
            refusal_show(form, refusal)
        else:
            messages.success(request, f"{leader.user} now leads the project.")
            return redirect("projects:members", project.pk)
    return _person_form_page(
        request,
        project,
        form=form,
        template="projects/team/leader_change.html",
        extra={"leader": current_leader(project)},
        status=400 if form.errors else 200,
    )


@login_required
def member_leave_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Confirm, then end the membership (the leader is told to hand over instead)."""
    membership = ProjectMember.objects.select_related("user").filter(pk=pk).first()
    if membership is None:
        raise Http404("No such membership.")
    project = project_for(request, membership.project_id, page="member_leave")
    membership.project = project
    _allowed_check(
        request,
        "member_leave",
        membership.user_id == request.user.pk or may_manage_team(request.user, project),
    )
    error = ""
    if request.method == "POST":
        try:
            member_leave(actor=request.user, membership=membership)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            own = membership.user_id == request.user.pk
            messages.success(
                request,
                "You left the project."
                if own
                else f"{membership.user} is no longer a "
                f"{membership.get_role_display().lower()} of the project.",
            )
            return redirect("projects:members", project.pk)
    return render(
        request,
        "projects/team/member_leave.html",
        {
            **_team_context(request, project, tab="members"),
            "membership": membership,
            "own": membership.user_id == request.user.pk,
            "error": error,
        },
        status=400 if error else 200,
    )


# --- Milestones -------------------------------------------------------------------------------


def _milestone_for(request: AuthenticatedRequest, pk: int, *, page: str) -> ProjectMilestone:
    """The milestone `pk` if `request.user` reaches its project, else the audited 404."""
    milestone = ProjectMilestone.objects.filter(pk=pk).first()
    if milestone is None:
        raise Http404("No such milestone.")
    milestone.project = project_for(request, milestone.project_id, page=page)
    return milestone


@login_required
def milestones(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The timeline: milestones by due date with a marker for today."""
    project = project_for(request, pk, page="milestones")
    today = timezone.localdate()
    manages = may_manage_team(request.user, project)
    works = may_work_on(request.user, project)
    timeline = project_timeline(project)
    entries = [
        {
            "milestone": milestone,
            "days_late": (today - milestone.due_date).days
            if milestone.status == MilestoneStatus.DELAYED
            else 0,
            "files": [(item, evidence_is_readable(item)) for item in milestone.evidence.all()],
            "may_edit": manages and milestone.status != MilestoneStatus.COMPLETED,
            "may_delete": manages and milestone.status != MilestoneStatus.COMPLETED,
            "may_start": works
            and milestone.status in (MilestoneStatus.PENDING, MilestoneStatus.DELAYED),
            "may_complete": works and milestone.status != MilestoneStatus.COMPLETED,
        }
        for milestone in timeline
    ]
    today_at = next(
        (index for index, milestone in enumerate(timeline) if milestone.due_date >= today),
        len(timeline),
    )
    return render(
        request,
        "projects/team/milestones.html",
        {
            **_team_context(request, project, tab="milestones"),
            "entries": entries,
            "today": today,
            "today_at": today_at,
            "may_manage": manages,
            "works_on": bool(current_roles(request.user, project)) or is_manager(request.user),
        },
    )


def _milestone_form_page(
    request: AuthenticatedRequest,
    project: InnovationProject,
    form: MilestoneForm,
    *,
    milestone: ProjectMilestone | None = None,
) -> HttpResponse:
    attrs = form.fields["due_date"].widget.attrs
    if project.start_date:
        attrs["min"] = project.start_date.isoformat()
    if project.end_date:
        attrs["max"] = project.end_date.isoformat()
    return render(
        request,
        "projects/team/milestone_form.html",
        {
            **_team_context(request, project, tab="milestones"),
            "form": form,
            "milestone": milestone,
        },
        status=400 if form.errors else 200,
    )


@login_required
def milestone_add_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="milestone_add")
    _allowed_check(request, "milestone_add", may_manage_team(request.user, project))
    form = MilestoneForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            milestone = milestone_add(actor=request.user, project=project, **form.cleaned_data)
        except ValidationError as refusal:
            refusal_show(form, refusal)
        else:
            messages.success(request, f"The milestone {milestone.title} is planned.")
            return redirect("projects:milestones", project.pk)
    return _milestone_form_page(request, project, form)


@login_required
def milestone_edit_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    milestone = _milestone_for(request, pk, page="milestone_edit")
    project = milestone.project
    _allowed_check(request, "milestone_edit", may_manage_team(request.user, project))
    form = MilestoneForm(
        request.POST if request.method == "POST" else None,
        initial={
            "title": milestone.title,
            "due_date": milestone.due_date,
            "description": milestone.description,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            milestone = milestone_edit(actor=request.user, milestone=milestone, **form.cleaned_data)
        except ValidationError as refusal:
            refusal_show(form, refusal)
        else:
            messages.success(request, f"The milestone {milestone.title} is saved.")
            return redirect("projects:milestones", project.pk)
    return _milestone_form_page(request, project, form, milestone=milestone)


@login_required
def milestone_delete_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    milestone = _milestone_for(request, pk, page="milestone_delete")
    project = milestone.project
    _allowed_check(request, "milestone_delete", may_manage_team(request.user, project))
    error = ""
    if request.method == "POST":
        try:
            milestone_delete(actor=request.user, milestone=milestone)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(request, f"The milestone {milestone.title} is deleted.")
            return redirect("projects:milestones", project.pk)
    return render(
        request,
        "projects/team/milestone_delete.html",
        {
            **_team_context(request, project, tab="milestones"),
            "milestone": milestone,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_POST
@login_required
def milestone_start_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    milestone = _milestone_for(request, pk, page="milestone_start")
    try:
        milestone = milestone_start(actor=request.user, milestone=milestone)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(request, f"The milestone {milestone.title} is in progress.")
    return redirect(reverse("projects:milestones", args=[milestone.project_id]))


@csrf_exempt
@login_required
def milestone_complete_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Complete a milestone with its evidence. As for students' documents, the size limit is
    enforced while the body streams in and names are recorded as sent, which needs the upload
    handler installed before anything reads the body; CSRF is checked after that."""
    milestone = _milestone_for(request, pk, page="milestone_complete")
    guard = UploadGuard.install(request, max_size_bytes(evidence_document_type(EVIDENCE_DOCUMENT)))
    return _milestone_complete(request, milestone, guard)


@csrf_protect
def _milestone_complete(
    request: AuthenticatedRequest, milestone: ProjectMilestone, guard: UploadGuard
) -> HttpResponse:
    project = milestone.project
    _allowed_check(request, "milestone_complete", may_work_on(request.user, project))
    form = MilestoneCompleteForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    status = 200
    if request.method == "POST":
        status = 400
        try:
            completed = _completed_with_evidence(request, milestone, form, guard)
        except ValidationError as refusal:
            refusal_show(form, refusal)
            if isinstance(refusal, StorageFailed):
                status = 503
        else:
            if completed is not None:
                messages.success(request, f"The milestone {completed.title} is completed.")
                return redirect("projects:milestones", project.pk)
    return render(
        request,
        "projects/team/milestone_complete.html",
        {
            **_team_context(request, project, tab="milestones"),
            "form": form,
            "milestone": milestone,
        },
        status=status,
    )


def _completed_with_evidence(
    request: AuthenticatedRequest,
    milestone: ProjectMilestone,
    form: MilestoneCompleteForm,
    guard: UploadGuard,
) -> ProjectMilestone | None:
    """With a file sent: through the safe upload path (enrolments.uploads), which checks the
    form; without one, the link alone. None while the form itself has errors."""
    file_sent = guard.exceeded or any(guard.sent_names)
    if not file_sent:
        if not form.is_valid():
            return None
        return milestone_complete(
            actor=request.user,
            milestone=milestone,
            evidence_link=form.cleaned_data["evidence_link"],
            evidence_note=form.cleaned_data["evidence_note"],
        )
    completed: ProjectMilestone = checked_upload_store(
        form=form,
        guard=guard,
        document_type=evidence_document_type(EVIDENCE_DOCUMENT),
        store=lambda checked: milestone_complete(
            actor=request.user,
            milestone=milestone,
            checked=checked,
            scan_status=upload_scan_status(),
            evidence_link=form.cleaned_data["evidence_link"],
            evidence_note=form.cleaned_data["evidence_note"],
        ),
        what=f"evidence of milestone {milestone.pk}",
    )
    return completed


@login_required
def milestone_evidence(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """A milestone's evidence file, for anyone who reaches its project; never a public URL. A
    file waiting for the virus scan, or removed by it, is not found."""
    evidence = MilestoneEvidence.objects.filter(pk=pk).select_related("milestone").first()
    if evidence is None:
        raise Http404("No such file.")
    project_for(request, evidence.milestone.project_id, page="milestone_evidence")
    if not evidence_is_readable(evidence):
        raise Http404("This file is not available.")
    return stored_file_response(
        file=evidence.file,
        filename=evidence.original_name,
        content_type=evidence.content_type,
        as_attachment=True,
    )


# --- Starting and completing the project ------------------------------------------------------


def _project_move_page(
    request: AuthenticatedRequest,
    pk: int,
    *,
    page: str,
    move: Any,
    done: str,
    template: str,
) -> HttpResponse:
    project = project_for(request, pk, page=page)
    _allowed_check(request, page, may_lead(request.user, project))
    error = ""
    if request.method == "POST":
        try:
            move(actor=request.user, project=project)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(request, done)
            return redirect("projects:milestones", project.pk)
    return render(
        request,
        template,
        {
            **_team_context(request, project, tab="milestones"),
            "open_milestones": project.milestones.exclude(status=MilestoneStatus.COMPLETED),
            "may_delete": may_manage_team(request.user, project),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def project_start_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _project_move_page(
        request,
        pk,
        page="project_start",
        move=project_start,
        done="The project is under way: its team can start and complete milestones now.",
        template="projects/team/project_start.html",
    )


@login_required
def project_complete_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _project_move_page(
        request,
        pk,
        page="project_complete",
        move=project_complete,
        done="The project is completed. Its team and milestones are kept as its record.",
        template="projects/team/project_complete.html",
    )
