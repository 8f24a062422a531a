"""The logbook's pages: a learner's logbooks, one placement's logbook (its weeks and hours per
outcome), one week (its entries, evidence, hand-in and the mentor's reviews), and changing or
removing an entry. Made for a phone first: the learner logs their day at the workplace.

Who reaches a logbook is workplace.access.logbook_placements: the learner, their current mentor
and staff who manage placements (who only read); anyone else gets the audited 404. Every write
goes through workplace.services.logbook."""

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check
from accounts.refusals import refusal_show
from enrolments.scanning import upload_scan_status
from enrolments.uploads import (
    StorageFailed,
    UploadGuard,
    checked_upload_store,
    max_size_bytes,
    stored_file_response,
)
from placements.models import Placement
from workplace.access import MANAGE_PLACEMENTS
from workplace.forms.logbook import EntryForm, EvidenceUploadForm, ReviewForm
from workplace.models import LogbookEntry, LogbookEvidence, LogbookWeek, LogbookWeekStatus
from workplace.selectors.logbook import (
    current_mentorship,
    hours_summary,
    logbook_entry,
    logbook_evidence,
    logbook_placement,
    logbook_week,
    logbook_weeks,
    my_logbooks,
    reaches_logbook,
)
from workplace.services.evidence import evidence_document_type, evidence_is_readable
from workplace.services.logbook import (
    entry_add,
    entry_date_bounds,
    entry_delete,
    entry_evidence_add,
    entry_update,
    may_review,
    placement_running,
    week_confirm,
    week_monday,
    week_return,
    week_submit,
)

EVIDENCE_DOCUMENT = "Logbook evidence"


# --- Reaching a logbook -----------------------------------------------------------------------


def _placement(request: AuthenticatedRequest, placement_pk: int) -> Placement:
    """The placement whose logbook `request.user` reaches, or the audited 404."""
    try:
        placement = logbook_placement(placement_pk)
    except Placement.DoesNotExist as missing:
        raise Http404("No such logbook.") from missing
    permission_check(
        actor=request.user,
        action="view:workplace.logbook",
        allowed=reaches_logbook(request.user, placement),
    )
    return placement


def _is_learner(request: AuthenticatedRequest, placement: Placement) -> bool:
    return placement.learner.user_id is not None and placement.learner.user_id == request.user.pk


def _monday(placement: Placement, week: str) -> datetime.date:
    """The week's Monday from the address: a date that is a Monday in (or touching) the
    placement's dates, else not found."""
    try:
        monday = datetime.date.fromisoformat(week)
    except ValueError as wrong:
        raise Http404("Not a week.") from wrong
    if monday.weekday() != 0:
        raise Http404("A week starts on a Monday.")
    if monday > placement.ends_on or monday + datetime.timedelta(days=6) < placement.starts_on:
        raise Http404("Not a week of this placement.")
    return monday


def _week_url(placement: Placement, monday: datetime.date) -> str:
    return reverse("workplace:logbook_week", args=[placement.pk, monday.isoformat()])


def _entry(request: AuthenticatedRequest, pk: int) -> LogbookEntry:
    """An entry of the signed-in learner's own logbook, or the audited 404."""
    try:
        entry = logbook_entry(pk)
    except LogbookEntry.DoesNotExist as missing:
        raise Http404("No such entry.") from missing
    placement = entry.week.placement
    permission_check(
        actor=request.user,
        action="view:workplace.logbook_entry",
        allowed=_is_learner(request, placement) and reaches_logbook(request.user, placement),
    )
    return entry


# --- The learner's logbooks and one logbook ---------------------------------------------------


@login_required
def my_logbooks_view(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "workplace/logbook/my_logbooks.html",
        {"placements": list(my_logbooks(request.user))},
    )


@login_required
def logbook_view(request: AuthenticatedRequest, placement_pk: int) -> HttpResponse:
    """A placement's logbook: its weeks, newest first, and the hours per outcome."""
    placement = _placement(request, placement_pk)
    today = timezone.localdate()
    is_learner = _is_learner(request, placement)
    return render(
        request,
        "workplace/logbook/logbook.html",
        {
            "placement": placement,
            "is_learner": is_learner,
            "is_mentor": not is_learner and may_review(request.user, placement),
            "may_log": is_learner and placement_running(placement, today),
            "today_week": _week_url(placement, week_monday(today)),
            "mentorship": current_mentorship(placement),
            "may_assign": request.user.may(MANAGE_PLACEMENTS),
            "summary": hours_summary(placement, placement.learner),
            "page": list_page(request, logbook_weeks(placement)),
        },
    )


# --- A week -----------------------------------------------------------------------------------


def _default_day(
    placement: Placement, monday: datetime.date, today: datetime.date
) -> datetime.date:
    """Today when it falls in the week; else the week's last day that may be logged."""
    sunday = monday + datetime.timedelta(days=6)
    if monday <= today <= sunday:
        return today
    first, last = entry_date_bounds(placement, today)
    return max(min(sunday, last), monday, first)


def _entry_form(
    placement: Placement,
    monday: datetime.date,
    data: Any = None,
    *,
    initial: dict[str, Any] | None = None,
) -> EntryForm:
    """The entry form of a week: its dates offered are the week's days that may be logged."""
    today = timezone.localdate()
    first, last = entry_date_bounds(placement, today)
    return EntryForm(
        data,
        placement=placement,
        first=max(first, monday),
        last=min(last, monday + datetime.timedelta(days=6)),
        initial=initial or {"entry_date": _default_day(placement, monday, today)},
    )


def _week_page(
    request: AuthenticatedRequest,
    placement: Placement,
    monday: datetime.date,
    *,
    entry_form: EntryForm | None = None,
    review_form: ReviewForm | None = None,
    upload_errors: tuple[int, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    week = logbook_week(placement, monday)
    is_learner = _is_learner(request, placement)
    is_mentor = not is_learner and may_review(request.user, placement)
    editable = is_learner and (week is None or week.is_editable)
    entries = list(week.entries.all()) if week else []
    rows = [
        {
            "entry": entry,
            "evidence": [(item, evidence_is_readable(item)) for item in entry.evidence.all()],
            "upload_form": EvidenceUploadForm(auto_id=f"id_evidence_{entry.pk}_%s")
            if editable
            else None,
            "upload_errors": upload_errors[1]
            if upload_errors and upload_errors[0] == entry.pk
            else [],
        }
        for entry in entries
    ]
    first, last = entry_date_bounds(placement, today)
    may_add = (
        editable
        and placement_running(placement, today)
        and max(first, monday) <= min(last, monday + datetime.timedelta(days=6))
    )
    previous_monday = monday - datetime.timedelta(days=7)
    next_monday = monday + datetime.timedelta(days=7)
    return render(
        request,
        "workplace/logbook/week.html",
        {
            "placement": placement,
            "monday": monday,
            "sunday": monday + datetime.timedelta(days=6),
            "week": week,
            "rows": rows,
            "hours": sum((entry.hours for entry in entries), start=0),
            "reviews": list(week.reviews.all()) if week else [],
            "is_learner": is_learner,
            "is_mentor": is_mentor,
            "editable": editable,
            "may_add": may_add,
            "may_submit": is_learner and week is not None and week.is_editable and bool(entries),
            "entry_form": (entry_form or _entry_form(placement, monday)) if may_add else None,
            "review_form": (review_form or ReviewForm())
            if is_mentor and week is not None and week.status == LogbookWeekStatus.SUBMITTED
            else None,
            "previous_week": _week_url(placement, previous_monday)
            if previous_monday + datetime.timedelta(days=6) >= placement.starts_on
            else "",
            "next_week": _week_url(placement, next_monday)
            if next_monday <= min(placement.ends_on, today)
            else "",
        },
        status=status,
    )


@login_required
@never_cache
def logbook_week_view(request: AuthenticatedRequest, placement_pk: int, week: str) -> HttpResponse:
    placement = _placement(request, placement_pk)
    return _week_page(request, placement, _monday(placement, week))


@login_required
@require_POST
def entry_add_view(request: AuthenticatedRequest, placement_pk: int) -> HttpResponse:
    """Log a day (the learner): it goes into the week of its date."""
    placement = _placement(request, placement_pk)
    posted_week = request.POST.get("week", "")
    try:
        monday = _monday(placement, posted_week)
    except Http404:
        monday = week_monday(timezone.localdate())
    form = _entry_form(placement, monday, request.POST)
    if form.is_valid():
        try:
            entry = entry_add(
                actor=request.user,
                placement=placement,
                entry_date=form.cleaned_data["entry_date"],
                hours=form.cleaned_data["hours"],
                tasks=form.cleaned_data["tasks"],
                outcomes=list(form.cleaned_data["outcomes"]),
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"Your entry for {entry.entry_date:%A %-d %B} is saved.")
            return redirect(_week_url(placement, week_monday(entry.entry_date)))
    return _week_page(request, placement, monday, entry_form=form, status=400)


@login_required
@never_cache
def entry_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    week = entry.week
    placement = week.placement
    back = _week_url(placement, week.week_starts_on)
    if not week.is_editable:
        messages.error(
            request, "This week is handed in or confirmed: its entries can no longer change."
        )
        return redirect(back)
    form = _entry_form(
        placement,
        week.week_starts_on,
        request.POST if request.method == "POST" else None,
        initial={
            "entry_date": entry.entry_date,
            "hours": entry.hours,
            "tasks": entry.tasks,
            "outcomes": list(entry.outcomes.all()),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            entry_update(
                actor=request.user,
                entry=entry,
                entry_date=form.cleaned_data["entry_date"],
                hours=form.cleaned_data["hours"],
                tasks=form.cleaned_data["tasks"],
                outcomes=list(form.cleaned_data["outcomes"]),
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, "The entry is saved.")
            return redirect(back)
    return render(
        request,
        "workplace/logbook/entry_form.html",
        {"entry": entry, "placement": placement, "form": form, "back": back},
        status=400 if form.is_bound else 200,
    )


@login_required
@never_cache
def entry_delete_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Remove an entry, after a confirmation."""
    entry = _entry(request, pk)
    week = entry.week
    placement = week.placement
    back = _week_url(placement, week.week_starts_on)
    error = ""
    if request.method == "POST":
        try:
            entry_delete(actor=request.user, entry=entry)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(request, f"The entry for {entry.entry_date:%A %-d %B} is removed.")
            return redirect(back)
    return render(
        request,
        "workplace/logbook/entry_delete.html",
        {"entry": entry, "placement": placement, "back": back, "error": error},
        status=400 if error else 200,
    )


@csrf_exempt
@login_required
def entry_evidence_add_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Upload a photo or document for an entry. As for students' documents, the size limit is
    enforced while the body streams in and names are recorded as sent, which needs the upload
    handler installed before anything reads the body; CSRF is checked after that."""
    entry = _entry(request, pk)
    guard = UploadGuard.install(request, max_size_bytes(evidence_document_type(EVIDENCE_DOCUMENT)))
    return _evidence_upload(request, entry, guard)


@csrf_protect
def _evidence_upload(
    request: AuthenticatedRequest, entry: LogbookEntry, guard: UploadGuard
) -> HttpResponse:
    placement = entry.week.placement
    monday = entry.week.week_starts_on
    if request.method != "POST":
        return redirect(_week_url(placement, monday))
    try:
        evidence = checked_upload_store(
            form=EvidenceUploadForm(request.POST, request.FILES),
            guard=guard,
            document_type=evidence_document_type(EVIDENCE_DOCUMENT),
            store=lambda checked: entry_evidence_add(
                actor=request.user, entry=entry, checked=checked, scan_status=upload_scan_status()
            ),
            what=f"logbook evidence of entry {entry.pk}",
        )
    except ValidationError as error:
        status = 503 if isinstance(error, StorageFailed) else 400
        return _week_page(
            request, placement, monday, upload_errors=(entry.pk, error.messages), status=status
        )
    messages.success(request, f"{evidence.original_name} is added to the entry.")
    return redirect(_week_url(placement, monday) + f"#entry-{entry.pk}")


@login_required
def logbook_evidence_file(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """An entry's evidence, for anyone who reaches the logbook; never a public URL. A file
    waiting for the virus scan, or removed by it, is not found."""
    try:
        evidence = logbook_evidence(pk)
    except LogbookEvidence.DoesNotExist as missing:
        raise Http404("No such file.") from missing
    placement = evidence.entry.week.placement
    permission_check(
        actor=request.user,
        action="view:workplace.logbook_evidence_file",
        allowed=reaches_logbook(request.user, placement),
    )
    if not evidence_is_readable(evidence):
        raise Http404("This file is not available.")
    return stored_file_response(
        file=evidence.file,
        filename=evidence.original_name,
        content_type=evidence.content_type,
        as_attachment=True,
    )


def _posted_week(
    request: AuthenticatedRequest, placement_pk: int, week: str
) -> tuple[Placement, LogbookWeek]:
    placement = _placement(request, placement_pk)
    found = logbook_week(placement, _monday(placement, week))
    if found is None:
        raise Http404("Nothing is logged in this week.")
    return placement, found


@login_required
@require_POST
def week_submit_view(request: AuthenticatedRequest, placement_pk: int, week: str) -> HttpResponse:
    """The learner hands the week in to their mentor."""
    placement, found = _posted_week(request, placement_pk, week)
    try:
        week_submit(actor=request.user, week=found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        mentorship = current_mentorship(placement)
        messages.success(
            request,
            f"The week is handed in to {mentorship.mentor.full_name}, who is e-mailed."
            if mentorship
            else "The week is handed in. Your placement has no mentor yet: it waits for one.",
        )
    return redirect(_week_url(placement, found.week_starts_on))


@login_required
@require_POST
def week_review_view(request: AuthenticatedRequest, placement_pk: int, week: str) -> HttpResponse:
    """The mentor confirms the week, or returns it with a comment."""
    placement, found = _posted_week(request, placement_pk, week)
    form = ReviewForm(request.POST)
    if form.is_valid():
        confirming = form.cleaned_data["decision"] == "confirm"
        try:
            if confirming:
                week_confirm(actor=request.user, week=found, comment=form.cleaned_data["comment"])
            else:
                week_return(actor=request.user, week=found, comment=form.cleaned_data["comment"])
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request,
                f"The week is {'confirmed' if confirming else 'returned'}; "
                f"{placement.learner.full_name} is e-mailed.",
            )
            return redirect(_week_url(placement, found.week_starts_on))
    return _week_page(request, placement, found.week_starts_on, review_form=form, status=400)
