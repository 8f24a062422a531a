"""Attendance pages: the register of a session (a trainer's phone is the first screen it is
made for), the registers left to take, a learner's own attendance, a cohort's attendance with
its flags, and the threshold. Views parse, call one service or selector, and render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check, permission_required
from cohorts.models import Cohort
from delivery.access import ALL_COHORTS, MANAGE, TEACH, manage_check, may_take_register, open_check
from delivery.forms.attendance import AttendanceThresholdForm, RegisterForm
from delivery.models import Session, SessionStatus
from delivery.selectors.attendance import (
    attendance_threshold,
    cohort_attendance,
    cohort_registers,
    learner_attendance_records,
    learner_course_attendance,
    register_counts,
    register_rows,
    register_session,
    registers_to_take,
)
from delivery.services.attendance import (
    CHANGE_REASON_NEEDED,
    attendance_threshold_set,
    register_correct,
    register_save,
    register_sign_off,
)
from integrations.selectors import sync_reporting


def _session(pk: int) -> Session:
    try:
        return register_session(pk)
    except Session.DoesNotExist as missing:
        raise Http404 from missing


def _register_post(request: AuthenticatedRequest, session: Session, form: RegisterForm) -> bool:
    """Save (and sign off, or correct) what the form says; False with the refusal on the form."""
    action = request.POST.get("action", "save")
    try:
        if form.correcting:
            changed = register_correct(
                session=session,
                actor=request.user,
                marks=form.marks(),
                change_reason=form.cleaned_data["change_reason"],
            )
            messages.success(
                request,
                f"{changed} correction{'s' if changed != 1 else ''} saved."
                if changed
                else "Nothing changed.",
            )
            return True
        register_save(
            session=session,
            actor=request.user,
            marks=form.marks(),
            rest_present=action == "all_present",
        )
        if action == "sign_off":
            register_sign_off(session=session, actor=request.user)
            messages.success(request, "Register signed off.")
        elif action == "all_present":
            messages.success(request, "Everyone else marked present: now change the exceptions.")
        else:
            messages.success(request, "Register saved.")
    except ValidationError as refusal:
        field = "change_reason" if refusal.code == CHANGE_REASON_NEEDED else None
        for message in refusal.messages:
            form.add_error(field, message)
        return False
    return True


@login_required
@never_cache
def register(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A session's register: marked and signed off by the run's trainer, the session's own
    trainer or who manages delivery; seen by who may open the run (a moderator, a stand-in)."""
    session = _session(pk)
    run = session.course_run
    open_check(actor=request.user, run=run, action="attendance.register_view")
    rows = register_rows(session)
    editable = (
        may_take_register(request.user, session)
        and session.status != SessionStatus.CANCELLED
        and session.session_date <= timezone.localdate()
    )
    form = RegisterForm(
        request.POST if request.method == "POST" else None,
        rows=rows,
        correcting=session.is_signed_off,
    )
    if request.method == "POST":
        if form.is_valid() and _register_post(request, session, form):
            return redirect("delivery:register", pk=session.pk)
        status = 400
    else:
        status = 200
    return render(
        request,
        "delivery/attendance/register.html",
        {
            "session": session,
            "run": run,
            "form": form,
            "rows": rows,
            "editable": editable,
            "counts": register_counts(row.status for row in rows),
            "future": session.session_date > timezone.localdate(),
            "reporting": sync_reporting() and session.is_signed_off,
        },
        status=status,
    )


@permission_required(TEACH, MANAGE)
def registers(request: AuthenticatedRequest) -> HttpResponse:
    """The registers left to take or sign off, oldest first."""
    return render(
        request,
        "delivery/attendance/registers.html",
        {"page": list_page(request, registers_to_take(request.user))},
    )


@login_required
def my_attendance(request: AuthenticatedRequest) -> HttpResponse:
    """A learner's own attendance: their rate in each course, and every session's mark."""
    return render(
        request,
        "delivery/attendance/my_attendance.html",
        {
            "courses": learner_course_attendance(request.user),
            "page": list_page(request, learner_attendance_records(request.user)),
            "threshold": attendance_threshold(request.tenant),
        },
    )


@login_required
def cohort_attendance_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A cohort's attendance rates per learner, those under the threshold flagged, and how its
    runs' registers stand."""
    cohort = get_object_or_404(Cohort, pk=pk)
    manage_check(actor=request.user, action="attendance.cohort_view", cohort=cohort)
    threshold = attendance_threshold(request.tenant)
    flagged_only = request.GET.get("flagged") == "1"
    return render(
        request,
        "delivery/attendance/cohort_attendance.html",
        {
            "cohort": cohort,
            "threshold": threshold,
            "flagged_only": flagged_only,
            "page": list_page(
                request,
                cohort_attendance(cohort=cohort, threshold=threshold, flagged_only=flagged_only),
            ),
            "runs": cohort_registers(cohort),
        },
    )


@permission_required(MANAGE)
@never_cache
def threshold(request: AuthenticatedRequest) -> HttpResponse:
    permission_check(
        actor=request.user, action="view:delivery.attendance_threshold", permission=ALL_COHORTS
    )
    current = attendance_threshold(request.tenant)
    form = AttendanceThresholdForm(
        request.POST if request.method == "POST" else None, initial={"percent": current}
    )
    if request.method == "POST" and form.is_valid():
        try:
            attendance_threshold_set(
                institution=request.tenant,
                actor=request.user,
                percent=form.cleaned_data["percent"],
            )
        except ValidationError as refusal:
            form.add_error("percent", refusal)
        else:
            messages.success(
                request, f"Attendance threshold set to {form.cleaned_data['percent']}%."
            )
            return redirect("delivery:attendance_threshold")
    return render(
        request,
        "delivery/attendance/threshold.html",
        {
            "form": form,
            "heading": "Attendance threshold",
            "intro": f"Now {current}%. A learner under it is flagged on their cohort's "
            "attendance page; the rate counts present and late as attended, absent as missed.",
            "submit": "Save threshold",
        },
    )
