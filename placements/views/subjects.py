"""The placement subject tree's pages: the tree shown indented, a subject added or changed, a
subject deactivated after a confirmation."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from accounts.refusals import refusal_show
from placements.forms.members import SubjectForm
from placements.models import PlacementSubject
from placements.selectors.members import subject_tree
from placements.services.memberships import MANAGE_ORGANISATIONS
from placements.services.subjects import subject_create, subject_deactivate, subject_update

# The tree is read whole; a page holds this many of its rows.
TREE_PAGE_SIZE = 100


@permission_required(MANAGE_ORGANISATIONS)
def subject_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "placements/members/subject_list.html",
        {"page": list_page(request, subject_tree(), per_page=TREE_PAGE_SIZE)},
    )


def _subject_form_page(
    request: AuthenticatedRequest, form: SubjectForm, *, subject: PlacementSubject | None
) -> HttpResponse:
    return render(
        request,
        "placements/members/subject_form.html",
        {"form": form, "subject": subject},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def subject_add(request: AuthenticatedRequest) -> HttpResponse:
    form = SubjectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            subject = subject_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{subject} added.")
            return redirect("placements:subject_list")
    return _subject_form_page(request, form, subject=None)


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def subject_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(PlacementSubject, pk=pk)
    form = SubjectForm.for_subject(request.POST if request.method == "POST" else None, subject)
    if request.method == "POST" and form.is_valid():
        try:
            subject = subject_update(actor=request.user, subject=subject, **form.cleaned_data)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{subject} saved.")
            return redirect("placements:subject_list")
    return _subject_form_page(request, form, subject=subject)


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def subject_deactivate_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(PlacementSubject, pk=pk, is_active=True)
    error = ""
    if request.method == "POST":
        try:
            subject_deactivate(actor=request.user, subject=subject)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(request, f"{subject} is no longer offered.")
            return redirect("placements:subject_list")
    return render(
        request,
        "placements/members/subject_deactivate.html",
        {"subject": subject, "error": error},
        status=400 if error else 200,
    )
