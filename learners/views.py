"""The staff's learner pages: the list, a learner's page, the admins' form, the audited "show"
of a number and the merge of two records. Views parse and call one service or selector."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import LOG_PAGE_SIZE, list_page
from accounts.permissions import permission_required
from learners.forms import (
    LearnerDetailsForm,
    LearnerFilterForm,
    LearnerNamesForm,
    LearnerSearchForm,
    NationalIdLookupForm,
)
from learners.models import Learner
from learners.selectors import (
    enrollments_documents,
    learner_agreements,
    learner_consents,
    learner_details_rows,
    learner_enrollments,
    learner_for_staff,
    learner_list_for_staff,
    learner_merge_plan,
    learner_trail,
)
from learners.services import learner_create, learner_merge, learner_update, national_id_reveal


def _learner(pk: int) -> Learner:
    try:
        return learner_for_staff(pk=pk)
    except Learner.DoesNotExist as missing:
        raise Http404 from missing


@permission_required("learners.view_learners")
def learner_list(request: AuthenticatedRequest) -> HttpResponse:
    filters = LearnerFilterForm(request.GET or None)
    learners = learner_list_for_staff(**filters.selector_filters())
    return render(
        request,
        "learners/learner_list.html",
        {
            "page": list_page(request, learners),
            "filters": filters,
            "lookup": NationalIdLookupForm(),
        },
    )


@permission_required("learners.view_learners")
@require_POST
@never_cache
def learner_find(request: AuthenticatedRequest) -> HttpResponse:
    """The learner with a whole ID or passport number, found through its keyed hash."""
    lookup = NationalIdLookupForm(request.POST)
    if lookup.is_valid():
        return redirect(lookup.cleaned_data["holder"])
    filters = LearnerFilterForm(None)
    return render(
        request,
        "learners/learner_list.html",
        {
            "page": list_page(request, learner_list_for_staff(**filters.selector_filters())),
            "filters": filters,
            "lookup": lookup,
        },
        status=400,
    )


@permission_required("learners.view_learners")
def learner_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    learner = _learner(pk)
    enrollments = learner_enrollments(learner)
    return render(
        request,
        "learners/learner_detail.html",
        {
            "learner": learner,
            # The first row, the masked number, is the page's own (with its "Show" button).
            "details": learner_details_rows(
                learner, demographics=request.user.may("learners.manage_learners")
            )[1:],
            "enrollments": enrollments,
            "documents": enrollments_documents(enrollments),
            "agreements": learner_agreements(enrollments),
            "consents": learner_consents(learner),
            "page": list_page(request, learner_trail(learner), per_page=LOG_PAGE_SIZE),
        },
    )


@permission_required("learners.view_learners")
@require_POST
@never_cache
def national_id_show(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The full number, in the fragment that replaces the masked one: audited, never cached.
    Without learners.view_national_id, the refusal (audited) and no number."""
    learner = _learner(pk)
    number = national_id_reveal(learner=learner, actor=request.user)
    return render(
        request, "learners/_national_id_shown.html", {"learner": learner, "number": number}
    )


def _learner_form(
    request: AuthenticatedRequest, learner: Learner | None
) -> tuple[LearnerNamesForm, LearnerDetailsForm]:
    data = request.POST if request.method == "POST" else None
    return (
        LearnerNamesForm(data, learner=learner),
        LearnerDetailsForm(data, learner=learner, name_holder=True),
    )


@permission_required("learners.manage_learners")
@never_cache
def learner_create_view(request: AuthenticatedRequest) -> HttpResponse:
    names, details = _learner_form(request, None)
    if request.method == "POST" and names.is_valid() and details.is_valid():
        try:
            learner = learner_create(
                actor=request.user, names=names.names(), details=details.details()
            )
        except ValidationError as error:
            details.add_error(None, error)
        else:
            messages.success(request, f"{learner.full_name} registered.")
            return redirect(learner)
    return render(request, "learners/learner_form.html", {"names": names, "details": details})


@permission_required("learners.manage_learners")
@never_cache
def learner_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    learner = _learner(pk)
    names, details = _learner_form(request, learner)
    if request.method == "POST" and names.is_valid() and details.is_valid():
        try:
            learner_update(
                learner=learner, actor=request.user, names=names.names(), details=details.details()
            )
        except ValidationError as error:
            details.add_error(None, error)
        else:
            messages.success(request, "Learner saved.")
            return redirect(learner)
    return render(
        request,
        "learners/learner_form.html",
        {"names": names, "details": details, "learner": learner},
    )


@permission_required("learners.merge_learners")
def merge_choose(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Find the other record of the same person, to preview merging it into this one."""
    learner = _learner(pk)
    search = LearnerSearchForm(request.GET or None)
    others = learner_list_for_staff(**search.selector_filters()).exclude(pk=learner.pk)
    return render(
        request,
        "learners/merge_choose.html",
        {"learner": learner, "filters": search, "page": list_page(request, others)},
    )


@permission_required("learners.merge_learners")
def merge_preview(request: AuthenticatedRequest, pk: int, other_pk: int) -> HttpResponse:
    """What merging `other_pk` into `pk` moves and fills, and what stops it; the merge on
    confirmation."""
    keep, other = _learner(pk), _learner(other_pk)
    if request.method == "POST":
        try:
            learner_merge(keep=keep, other=other, actor=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"Learner {other.pk} merged into this record, and archived.")
            return redirect(keep)
    enrollments = learner_enrollments(other)
    return render(
        request,
        "learners/merge_preview.html",
        {
            "plan": learner_merge_plan(keep=keep, other=other),
            "sides": [("Kept", keep), ("Merged into it, then archived", other)],
            "enrollments": enrollments,
            "documents": enrollments_documents(enrollments),
            "consents": learner_consents(other),
        },
    )
