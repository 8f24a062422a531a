"""Adding sessions to a run (one, or a weekly schedule), moving and cancelling one; and the
learner's schedule. Clashes and holidays come back as the form's errors, naming them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_required
from delivery.access import MANAGE, manage_check
from delivery.forms.runs import SessionCancelForm, SessionForm, SessionMoveForm, WeeklyScheduleForm
from delivery.models import Session
from delivery.selectors.sessions import (
    is_learner,
    learner_sessions,
    live_feeds,
    month_of,
    month_start,
    upcoming,
)
from delivery.services.sessions import (
    WEEKDAYS,
    session_add,
    session_cancel,
    session_move,
    sessions_schedule_weekly,
)
from delivery.views.runs import run_managed


@permission_required(MANAGE)
@never_cache
def session_add_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = run_managed(request, pk, "delivery.session_add")
    form = SessionForm(request.POST if request.method == "POST" else None, run=run)
    if request.method == "POST" and form.is_valid():
        try:
            session = session_add(actor=request.user, run=run, slot=form.slot())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Session added on {session.session_date:%d %b %Y}.")
            return redirect(run)
    return render(
        request,
        "delivery/sessions/session_form.html",
        {"form": form, "run": run, "heading": "Add a session", "submit": "Add session"},
        status=400 if form.errors else 200,
    )


@permission_required(MANAGE)
@never_cache
def session_schedule(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = run_managed(request, pk, "delivery.sessions_schedule_weekly")
    form = WeeklyScheduleForm(request.POST if request.method == "POST" else None, run=run)
    if request.method == "POST" and form.is_valid():
        try:
            schedule = sessions_schedule_weekly(actor=request.user, run=run, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            skipped = "; ".join(f"{day:%d %b} ({reason})" for day, reason in schedule.skipped)
            messages.success(
                request,
                f"{len(schedule.sessions)} sessions scheduled."
                + (f" Skipped: {skipped}." if skipped else ""),
            )
            return redirect(run)
    return render(
        request,
        "delivery/sessions/schedule_form.html",
        {"form": form, "run": run, "weekdays": WEEKDAYS},
        status=400 if form.errors else 200,
    )


def _session(request: AuthenticatedRequest, pk: int, action: str) -> Session:
    session = (
        Session.objects.select_related("course_run__cohort", "course_run__trainer", "trainer")
        .filter(pk=pk)
        .first()
    )
    if session is None:
        raise Http404
    manage_check(actor=request.user, action=action, cohort=session.course_run.cohort)
    return session


@permission_required(MANAGE)
@never_cache
def session_move_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    session = _session(request, pk, "delivery.session_move")
    form = SessionMoveForm(request.POST if request.method == "POST" else None, session=session)
    if request.method == "POST" and form.is_valid():
        try:
            session_move(actor=request.user, session=session, slot=form.slot())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Session moved; its learners and trainer are told.")
            return redirect(session.course_run)
    return render(
        request,
        "delivery/sessions/session_form.html",
        {
            "form": form,
            "run": session.course_run,
            "session": session,
            "heading": "Move a session",
            "submit": "Move session",
        },
        status=400 if form.errors else 200,
    )


@permission_required(MANAGE)
@never_cache
def session_cancel_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    session = _session(request, pk, "delivery.session_cancel")
    form = SessionCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            session_cancel(actor=request.user, session=session, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Session cancelled; its learners and trainer are told.")
            return redirect(session.course_run)
    return render(
        request,
        "delivery/sessions/session_cancel.html",
        {"form": form, "session": session, "run": session.course_run},
        status=400 if form.errors else 200,
    )


@login_required
def my_schedule(request: AuthenticatedRequest) -> HttpResponse:
    """A learner's sessions: the next ones, and a month at a time."""
    sessions = learner_sessions(request.user)
    return render(
        request,
        "delivery/schedule/my_schedule.html",
        {
            "upcoming": upcoming(sessions, limit=5),
            "month": month_of(sessions, month_start(request.GET.get("month"))),
            "feed": live_feeds(request.user).get("learner"),
            "is_learner": is_learner(request.user),
        },
    )
