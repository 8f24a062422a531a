"""The cohort's delivery page (its runs, made from its programme in one action, and its
calendar), a run's page with its sessions and learners, the run's form and enrolling learners
in it; and the delivery start page of trainers and of those who manage delivery."""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from academics.models import Outcome
from accounts.http import AuthenticatedRequest
from accounts.permissions import may_reach, permission_required
from cohorts.models import Cohort
from delivery.access import MANAGE, MODERATE, TEACH, manage_check, open_check
from delivery.forms.runs import (
    CohortRunsForm,
    EnrolLearnersForm,
    LearnerDropForm,
    RunCancelForm,
    RunForm,
    SessionForm,
    WeeklyScheduleForm,
)
from delivery.models import CalendarFeedOwner, CourseEnrollmentStatus, CourseRun, CourseRunStatus
from delivery.selectors.runs import (
    cohort_runs,
    run_candidates,
    run_for_page,
    run_learners,
    run_learners_with_standing,
    run_phase,
    runs_on_home,
)
from delivery.selectors.sessions import (
    cohort_sessions,
    live_feeds,
    month_of,
    month_start,
    run_sessions,
    sessions_on_home,
    upcoming,
)
from delivery.services.feeds import feed_owner_allowed
from delivery.services.runs import (
    cohort_runs_create,
    run_cancel,
    run_learner_drop,
    run_learners_enrol,
    run_update,
)
from integrations.selectors import sync_reporting


def _cohort(request: AuthenticatedRequest, pk: int, action: str) -> Cohort:
    cohort = Cohort.objects.select_related("programme").filter(pk=pk).first()
    if cohort is None:
        raise Http404
    manage_check(actor=request.user, action=action, cohort=cohort)
    return cohort


def run_opened(request: AuthenticatedRequest, pk: int, action: str) -> CourseRun:
    """The run `pk` as its page shows it, if the person may open it (an audited 404 if not)."""
    found = CourseRun.objects.select_related("cohort").filter(pk=pk).first()
    if found is None:
        raise Http404
    open_check(actor=request.user, run=found, action=action)
    return run_for_page(request.user, pk)


def run_managed(request: AuthenticatedRequest, pk: int, action: str) -> CourseRun:
    """The run `pk` if the person manages delivery in its cohort (an audited 404 if not)."""
    run = run_opened(request, pk, action)
    manage_check(actor=request.user, action=action, cohort=run.cohort)
    return run


def _month_default(cohort: Cohort) -> datetime.date:
    """The month a cohort's calendar opens on: this one while it runs, else its first."""
    today = timezone.localdate()
    return today if cohort.start_date <= today <= cohort.end_date else cohort.start_date


def _cohort_page(
    request: AuthenticatedRequest, cohort: Cohort, form: CohortRunsForm, *, status: int = 200
) -> HttpResponse:
    runs = list(cohort_runs(cohort))
    for run in runs:
        run.phase = run_phase(run)  # type: ignore[attr-defined]
    courses = cohort.programme.courses.filter(is_active=True).count() if cohort.programme else 0
    live = sum(1 for run in runs if run.status != CourseRunStatus.CANCELLED)
    return render(
        request,
        "delivery/runs/cohort_delivery.html",
        {
            "cohort": cohort,
            "runs": runs,
            "form": form,
            "courses_without_run": max(courses - live, 0),
            "month": month_of(
                cohort_sessions(cohort),
                month_start(request.GET.get("month"), default=_month_default(cohort)),
            ),
        },
        status=status,
    )


@permission_required(MANAGE)
def cohort_delivery(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk, "view:delivery.cohort")
    return _cohort_page(request, cohort, CohortRunsForm())


@permission_required(MANAGE)
@require_POST
def cohort_runs_create_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk, "delivery.cohort_runs_create")
    form = CohortRunsForm(request.POST)
    if form.is_valid():
        try:
            made = cohort_runs_create(actor=request.user, cohort=cohort, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"{len(made.runs)} course run{pluralize(len(made.runs))} created; "
                f"{made.enrolments} course enrolment{pluralize(made.enrolments)} made for the "
                "cohort's learners.",
            )
            return redirect("delivery:cohort", cohort.pk)
    return _cohort_page(request, cohort, form, status=400)


@permission_required(MANAGE, TEACH, MODERATE)
def run_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = run_opened(request, pk, "view:delivery.run")
    manages = request.user.may(MANAGE) and may_reach(request.user, run.cohort)
    reporting = sync_reporting()
    return render(
        request,
        "delivery/runs/run_detail.html",
        {
            "run": run,
            "phase": run_phase(run),
            "manages": manages,
            "sessions": run_sessions(run),
            "learners": run_learners_with_standing(run) if reporting else run_learners(run),
            "reporting": reporting,
            "candidates": run_candidates(run).count() if manages else 0,
            "session_form": SessionForm(run=run) if manages else None,
            "schedule_form": WeeklyScheduleForm(run=run) if manages else None,
            "today": timezone.localdate(),
            # The run's learners hand in portfolios of evidence for the course's outcomes.
            "has_outcomes": manages
            and Outcome.objects.filter(course_id=run.course_id, is_active=True).exists(),
        },
    )


@permission_required(MANAGE)
@never_cache
def run_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = run_managed(request, pk, "delivery.run_update")
    form = RunForm(request.POST if request.method == "POST" else None, instance=run)
    if request.method == "POST" and form.is_valid():
        try:
            run_update(actor=request.user, run=run, changes=form.changes())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Run saved.")
            return redirect(run)
    return render(request, "delivery/runs/run_form.html", {"form": form, "run": run})


@permission_required(MANAGE)
@never_cache
def run_enrol(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Choose learners of the cohort to enrol in the run (electives, later courses)."""
    run = run_managed(request, pk, "delivery.run_learners_enrol")
    form = EnrolLearnersForm(
        request.POST if request.method == "POST" else None, candidates=run_candidates(run)
    )
    if request.method == "POST" and form.is_valid():
        try:
            enrolled = run_learners_enrol(
                actor=request.user, run=run, learners=list(form.cleaned_data["learners"])
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"{enrolled} learner{pluralize(enrolled)} enrolled in {run.course_ref}."
            )
            return redirect(run)
    return render(
        request,
        "delivery/runs/run_enrol.html",
        {"form": form, "run": run, "prerequisites": run.course.prerequisites.all()},
        status=400 if form.errors else 200,
    )


@permission_required(MANAGE)
@never_cache
def run_learner_drop_view(
    request: AuthenticatedRequest, pk: int, enrolment_pk: int
) -> HttpResponse:
    """Take a learner out of the run, with a reason (a changed or failed elective)."""
    run = run_managed(request, pk, "delivery.run_learner_drop")
    enrolment = (
        run_learners(run).filter(pk=enrolment_pk).exclude(status=CourseEnrollmentStatus.DROPPED)
    ).first()
    if enrolment is None:
        raise Http404
    form = LearnerDropForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            run_learner_drop(
                actor=request.user, enrolment=enrolment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            who = enrolment.enrollment.learner.full_name
            messages.success(request, f"{who} left {run.course_ref}.")
            return redirect(run)
    return render(
        request,
        "delivery/runs/run_learner_drop.html",
        {"form": form, "run": run, "enrolment": enrolment},
        status=400 if form.errors else 200,
    )


@permission_required(MANAGE)
@never_cache
def run_cancel_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Cancel the run, with a reason, after saying what that does."""
    run = run_managed(request, pk, "delivery.run_cancel")
    if run.status == CourseRunStatus.CANCELLED:
        raise Http404
    form = RunCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            run_cancel(actor=request.user, run=run, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{run.course_ref} is cancelled, with its sessions to come.")
            return redirect(run)
    return render(
        request,
        "delivery/runs/run_cancel.html",
        {
            "form": form,
            "run": run,
            "reporting": sync_reporting(),
            "reported": run.status != CourseRunStatus.DRAFT,
        },
        status=400 if form.errors else 200,
    )


@permission_required(MANAGE, TEACH, MODERATE)
def home(request: AuthenticatedRequest) -> HttpResponse:
    """A trainer's start page: the runs they teach and their next sessions (for those who manage
    delivery or moderate, the runs they reach)."""
    return render(
        request,
        "delivery/runs/home.html",
        {
            "runs": runs_on_home(request.user),
            "sessions": upcoming(sessions_on_home(request.user), limit=15),
            "month": month_of(
                sessions_on_home(request.user), month_start(request.GET.get("month"))
            ),
            "feed": live_feeds(request.user).get("trainer"),
            "is_trainer": feed_owner_allowed(request.user, CalendarFeedOwner.TRAINER),
        },
    )
