"""The review pages: a project's Review tab, scoring it, sending it to the panel and deciding on
it; a reviewer's queue; the criteria and the panels. Who sees which scores is the selector's
(projects.selectors.review); who may do what is the services'."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check, permission_required
from accounts.refusals import refusal_show
from projects.access import MANAGE_PROJECTS, is_manager
from projects.forms.review import DECISION_CHOICES, CriterionForm, DecideForm, PanelForm, ScoreForm
from projects.models import ProjectStatus, ReviewAssignment, ReviewCriterion, ReviewPanel
from projects.selectors.review import (
    assignment_criteria,
    criteria_list,
    may_open_review,
    my_review_queue,
    panel_list,
    pending_assignment,
    review_rounds,
    send_plan,
)
from projects.services.review import project_decide, review_send, review_submit
from projects.services.review_setup import (
    criterion_active_set,
    criterion_create,
    criterion_update,
    panel_create,
    panel_update,
)
from projects.views.common import project_context, project_for

DECIDABLE = (ProjectStatus.SUBMITTED, ProjectStatus.IN_REVIEW)


# --- A project's review -----------------------------------------------------------------------


@login_required
@never_cache
def review(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="review")
    permission_check(
        actor=request.user,
        action="view:projects.review",
        allowed=may_open_review(request.user, project),
    )
    manager = is_manager(request.user)
    context: dict[str, Any] = {
        **project_context(request, project, tab="review"),
        "rounds": review_rounds(viewer=request.user, project=project),
        "pending": pending_assignment(request.user, project),
        "may_send": manager and project.status == ProjectStatus.SUBMITTED,
        "may_decide": manager and project.status in DECIDABLE,
    }
    if context["may_send"]:
        context["plan"] = send_plan(project)
    return render(request, "projects/review/review.html", context)


@login_required
@never_cache
def review_score(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="review_score")
    assignment = ReviewAssignment.objects.filter(
        project=project, round=project.round, reviewer=request.user
    ).first()
    permission_check(
        actor=request.user, action="view:projects.review_score", allowed=assignment is not None
    )
    assert assignment is not None
    if request.method != "POST" and (
        assignment.submitted_at is not None or project.status != ProjectStatus.IN_REVIEW
    ):
        messages.info(
            request,
            "You have scored this proposal: your scores are final."
            if assignment.submitted_at
            else "This proposal is not in review: there is nothing to score.",
        )
        return redirect("projects:review", project.pk)
    form = ScoreForm(
        request.POST if request.method == "POST" else None, criteria=assignment_criteria(assignment)
    )
    if request.method == "POST" and form.is_valid():
        try:
            review_submit(
                actor=request.user,
                assignment=assignment,
                scores=form.scores(),
                comments=form.cleaned_data["comments"],
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, "Your scores are in. You now see the panel's reviews.")
            return redirect("projects:review", project.pk)
    return render(
        request,
        "projects/review/score.html",
        {**project_context(request, project, tab="review"), "form": form},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_PROJECTS)
@never_cache
def review_send_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="review_send")
    error = ""
    if request.method == "POST":
        try:
            assignments = review_send(actor=request.user, project=project)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(
                request,
                f"Sent to the panel: {len(assignments)} "
                f"reviewer{'s are' if len(assignments) > 1 else ' is'} asked to score it.",
            )
            return redirect("projects:review", project.pk)
    return render(
        request,
        "projects/review/send.html",
        {
            **project_context(request, project, tab="review"),
            "plan": send_plan(project),
            "error": error,
        },
        status=400 if error else 200,
    )


@permission_required(MANAGE_PROJECTS)
@never_cache
def decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk, page="decide")
    if project.status not in DECIDABLE:
        messages.info(
            request,
            f"This project is {project.get_status_display().lower()}: there is nothing to decide.",
        )
        return redirect("projects:review", project.pk)
    rounds = review_rounds(viewer=request.user, project=project)
    current = rounds[0] if rounds and rounds[0].is_current else None
    in_review = project.status == ProjectStatus.IN_REVIEW
    missing = current.asked - current.scored if current and in_review else 0
    choices = DECISION_CHOICES if in_review else DECISION_CHOICES[2:]
    form = DecideForm(
        request.POST if request.method == "POST" else None, choices=choices, missing=missing
    )
    if request.method == "POST" and form.is_valid():
        decision = form.cleaned_data["decision"]
        try:
            project_decide(
                actor=request.user,
                project=project,
                decision=decision,
                reason=form.cleaned_data["reason"],
                without_missing=form.cleaned_data.get("without_missing", False),
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            done = {"approve": "approved", "reject": "rejected", "send_back": "sent back"}
            messages.success(request, f"{project.title} is {done[decision]}.")
            return redirect("projects:review", project.pk)
    return render(
        request,
        "projects/review/decide.html",
        {
            **project_context(request, project, tab="review"),
            "form": form,
            "current": current,
            "missing": missing,
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def my_reviews(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "projects/review/my_reviews.html",
        {"page": list_page(request, my_review_queue(request.user))},
    )


# --- Criteria ---------------------------------------------------------------------------------


@permission_required(MANAGE_PROJECTS)
def criteria(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request, "projects/review/criteria.html", {"page": list_page(request, criteria_list())}
    )


def _criterion_form_page(
    request: AuthenticatedRequest, form: CriterionForm, criterion: ReviewCriterion | None
) -> HttpResponse:
    return render(
        request,
        "projects/review/criterion_form.html",
        {"form": form, "criterion": criterion},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_PROJECTS)
@never_cache
def criterion_new(request: AuthenticatedRequest) -> HttpResponse:
    form = CriterionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            criterion = criterion_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{criterion.name} added.")
            return redirect("projects:criteria")
    return _criterion_form_page(request, form, None)


@permission_required(MANAGE_PROJECTS)
@never_cache
def criterion_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    criterion = get_object_or_404(ReviewCriterion, pk=pk)
    form = CriterionForm.for_criterion(
        request.POST if request.method == "POST" else None, criterion
    )
    if request.method == "POST" and form.is_valid():
        try:
            criterion = criterion_update(
                actor=request.user, criterion=criterion, **form.cleaned_data
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{criterion.name} saved.")
            return redirect("projects:criteria")
    return _criterion_form_page(request, form, criterion)


def _active_set(request: AuthenticatedRequest, criterion: ReviewCriterion, *, active: bool) -> bool:
    """Deactivate or reactivate `criterion`; a refusal (someone did it first) is shown as a
    message."""
    try:
        criterion_active_set(actor=request.user, criterion=criterion, active=active)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    return True


@permission_required(MANAGE_PROJECTS)
@never_cache
def criterion_deactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    criterion = get_object_or_404(ReviewCriterion, pk=pk)
    if request.method == "POST":
        if _active_set(request, criterion, active=False):
            messages.success(request, f"{criterion.name} is no longer scored.")
        return redirect("projects:criteria")
    if not criterion.is_active:
        messages.info(request, f"{criterion.name} is already out of use.")
        return redirect("projects:criteria")
    return render(request, "projects/review/criterion_deactivate.html", {"criterion": criterion})


@permission_required(MANAGE_PROJECTS)
@require_POST
def criterion_reactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    criterion = get_object_or_404(ReviewCriterion, pk=pk)
    if _active_set(request, criterion, active=True):
        messages.success(request, f"{criterion.name} is scored again, from the next review asked.")
    return redirect("projects:criteria")


# --- Panels -----------------------------------------------------------------------------------


@permission_required(MANAGE_PROJECTS)
def panels(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request, "projects/review/panels.html", {"page": list_page(request, panel_list())}
    )


def _panel_form_page(
    request: AuthenticatedRequest, form: PanelForm, panel: ReviewPanel | None
) -> HttpResponse:
    return render(
        request,
        "projects/review/panel_form.html",
        {"form": form, "panel": panel},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_PROJECTS)
@never_cache
def panel_new(request: AuthenticatedRequest) -> HttpResponse:
    form = PanelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            panel = panel_create(
                actor=request.user,
                programme=form.cleaned_data["programme"],
                role=form.cleaned_data["role"],
                reviewers=list(form.cleaned_data["reviewers"]),
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{panel} added.")
            return redirect("projects:panels")
    return _panel_form_page(request, form, None)


@permission_required(MANAGE_PROJECTS)
@never_cache
def panel_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    panel = get_object_or_404(ReviewPanel.objects.select_related("programme", "role"), pk=pk)
    form = PanelForm(request.POST if request.method == "POST" else None, panel=panel)
    if request.method == "POST" and form.is_valid():
        try:
            panel = panel_update(
                actor=request.user,
                panel=panel,
                role=form.cleaned_data["role"],
                reviewers=list(form.cleaned_data["reviewers"]),
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{panel} saved.")
            return redirect("projects:panels")
    return _panel_form_page(request, form, panel)
