from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from cohorts.forms import (
    CohortFilterForm,
    CohortForm,
    DocumentTypeForm,
    ForceCompleteForm,
    InviteStudentForm,
    ReasonForm,
    ResponsibleAdminsForm,
    ReviewerForm,
    StudentFilterForm,
)
from cohorts.models import Cohort, CohortState, DocumentType
from cohorts.panels import cohort_panels_for
from cohorts.selectors import (
    cohort_completion_blockers,
    cohort_for_dashboard,
    cohort_list_for_admin,
    cohort_state_counts,
    cohort_verifiers,
    document_type_list,
    main_agreement_preview_html,
    responsible_admin_choices,
    reviewers_to_choose,
)
from cohorts.services import (
    cohort_activate,
    cohort_cancel,
    cohort_complete,
    cohort_create,
    cohort_main_agreement_start,
    cohort_responsible_admins_set,
    cohort_reviewer_set,
    cohort_update,
    document_type_save,
)
from enrolments.models import CohortEnrollment
from enrolments.selectors import (
    enrollment_counts,
    enrollment_list_for_cohort,
    learner_agreement_counts,
)
from enrolments.services import (
    CLOSED_TO_JOINING,
    CLOSED_TO_WITHDRAWALS,
    enrollment_invitation_resend,
    enrollment_invite,
    enrollment_withdraw,
)
from integrations.selectors import sync_state_for
from learners.services import NATIONAL_ID_REFUSALS
from signing.models import SubmissionStatus
from signing.selectors import submissions_for_subject
from sponsors.selectors import cohort_sponsor_status, sponsor_choices

# Who sees the cohort list and dashboards (each person only the cohorts they work in).
COHORT_READERS = ("cohorts.manage_cohorts", "verification.review_documents")


def _cohort(request: AuthenticatedRequest, pk: int) -> Cohort:
    try:
        return cohort_for_dashboard(user=request.user, pk=pk)
    except Cohort.DoesNotExist as missing:
        raise Http404 from missing


@permission_required(*COHORT_READERS)
def cohort_list(request: AuthenticatedRequest) -> HttpResponse:
    filters = CohortFilterForm(request.GET or None)
    cohorts = cohort_list_for_admin(user=request.user, **filters.selector_filters())
    return render(
        request,
        "cohorts/cohort_list.html",
        {
            "page": list_page(request, cohorts),
            "filters": filters,
            "state_counts": cohort_state_counts(user=request.user),
            "states": CohortState,
        },
    )


@permission_required("cohorts.manage_cohorts")
def cohort_create_view(request: AuthenticatedRequest) -> HttpResponse:
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cohort = cohort_create(actor=request.user, **form.cleaned_data)
        messages.success(request, f"Cohort “{cohort.name}” created as a draft.")
        return redirect("cohorts:dashboard", pk=cohort.pk)
    return render(request, "cohorts/cohort_form.html", {"form": form})


@permission_required("cohorts.manage_cohorts")
def cohort_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk)
    if cohort.is_closed:
        messages.error(request, f"A {cohort.get_state_display().lower()} cohort cannot change.")
        return redirect("cohorts:dashboard", pk=cohort.pk)
    form = CohortForm(request.POST or None, instance=cohort)
    if request.method == "POST" and form.is_valid():
        try:
            cohort_update(cohort=cohort, actor=request.user, changes=form.changes())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Cohort saved.")
            return redirect("cohorts:dashboard", pk=cohort.pk)
    return render(request, "cohorts/cohort_form.html", {"form": form, "cohort": cohort})


@permission_required(*COHORT_READERS)
def cohort_dashboard(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk)
    filters = StudentFilterForm(request.GET or None)
    chosen = {"sort": "name", **filters.selector_filters()}
    enrollments = enrollment_list_for_cohort(cohort=cohort, **chosen)
    context = {
        "cohort": cohort,
        "page": list_page(request, enrollments),
        "filters": filters,
        "sort": chosen["sort"],
        "can_manage": request.user.may("cohorts.manage_cohorts"),
    }
    if request.htmx:
        return render(request, "cohorts/_students_table.html", context)
    context["counts"] = enrollment_counts(cohort=cohort)
    context["cohort_panels"] = cohort_panels_for(cohort, request.user)
    context["main_agreement"] = (
        submissions_for_subject(cohort).filter(status=SubmissionStatus.COMPLETED).first()
        if cohort.admin_signed_at
        else None
    )
    context["learner_agreements"] = learner_agreement_counts(cohort=cohort)
    context["sync"] = sync_state_for(entity_type="cohorts.cohort", entity_id=cohort.pk)
    context["activation_blockers"] = (
        cohort.activation_blockers() if cohort.state == CohortState.DRAFT else []
    )
    if context["can_manage"]:
        verifiers = cohort_verifiers(cohort=cohort)
        context["sponsor_status"] = cohort_sponsor_status(cohort)
        context["sponsors"] = sponsor_choices()
        context["reviewers"] = verifiers.reviewers
        context["verifiers"] = verifiers.others
        context["responsible_form"] = _responsible_form(cohort)
    return render(request, "cohorts/cohort_dashboard.html", context)


@permission_required("cohorts.manage_cohorts")
def cohort_sign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The main agreement's text; posting sends it to the admin to sign through the signing
    pages, and goes there."""
    cohort = _cohort(request, pk)
    if request.method == "POST":
        try:
            url = cohort_main_agreement_start(cohort=cohort, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("cohorts:dashboard", pk=cohort.pk)
        # The same institution's signing page, on the host this page was reached on; once
        # signed, it brings the admin back to the cohort page.
        back = reverse("cohorts:dashboard", args=[cohort.pk])
        return redirect(f"{urlsplit(url).path}?{urlencode({'next': back})}")
    if cohort.main_template is None:
        messages.error(request, "Choose the main agreement template before signing it.")
        return redirect("cohorts:dashboard", pk=cohort.pk)
    return render(
        request,
        "cohorts/cohort_sign.html",
        {"cohort": cohort, "body_html": main_agreement_preview_html(cohort, admin=request.user)},
    )


def _run(request: AuthenticatedRequest, service, success: str, **kwargs) -> bool:
    try:
        service(actor=request.user, **kwargs)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, success)
    return True


@permission_required("cohorts.manage_cohorts")
@require_POST
def cohort_activate_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk)
    _run(request, cohort_activate, "The cohort is active.", cohort=cohort)
    return redirect("cohorts:dashboard", pk=cohort.pk)


def _confirm_with_reason(
    request: AuthenticatedRequest,
    cohort: Cohort,
    form_class,
    template: str,
    context: dict,
    service,
    success: str,
    reason_argument: str,
    /,
    **arguments,
) -> HttpResponse:
    """A page that asks for a reason before a transition, then runs it and goes back to the
    dashboard (or shows the refusal on the same page)."""
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        arguments[reason_argument] = form.cleaned_data["reason"]
        if _run(request, service, success, **arguments):
            return redirect("cohorts:dashboard", pk=cohort.pk)
    return render(request, template, {"cohort": cohort, "form": form, **context})


@permission_required("cohorts.manage_cohorts")
def cohort_complete_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk)
    return _confirm_with_reason(
        request,
        cohort,
        ForceCompleteForm,
        "cohorts/cohort_complete.html",
        {"blockers": cohort_completion_blockers(cohort)},
        cohort_complete,
        "The cohort is completed.",
        "force_reason",
        cohort=cohort,
    )


@permission_required("cohorts.manage_cohorts")
def cohort_cancel_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk)
    return _confirm_with_reason(
        request,
        cohort,
        ReasonForm,
        "cohorts/cohort_cancel.html",
        {},
        cohort_cancel,
        "The cohort is cancelled.",
        "reason",
        cohort=cohort,
    )


def _closed_refusal(request: AuthenticatedRequest, cohort: Cohort, consequence: str) -> bool:
    """Whether the cohort is closed, in which case the page and its form are no use: the
    refusal (the services' own words) is the message the dashboard shows."""
    if not cohort.is_closed:
        return False
    messages.error(request, cohort.closed_message(consequence))
    return True


@permission_required("enrolments.manage_enrolments")
def student_invite(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk)
    if _closed_refusal(request, cohort, CLOSED_TO_JOINING):
        return redirect("cohorts:dashboard", pk=cohort.pk)
    form = InviteStudentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrollment = enrollment_invite(cohort=cohort, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            # A number another learner has is a fault of the field, said beside it.
            form.add_error("id_number" if error.code in NATIONAL_ID_REFUSALS else None, error)
        else:
            messages.success(request, f"{enrollment.user.email} is enrolled and invited.")
            return redirect("cohorts:dashboard", pk=cohort.pk)
    return render(request, "cohorts/student_invite.html", {"cohort": cohort, "form": form})


def _enrollment(cohort: Cohort, enrollment_pk: int) -> CohortEnrollment:
    return get_object_or_404(
        CohortEnrollment.objects.select_related("user"), cohort=cohort, pk=enrollment_pk
    )


@permission_required("enrolments.manage_enrolments")
def student_withdraw(request: AuthenticatedRequest, pk: int, enrollment_pk: int) -> HttpResponse:
    cohort = _cohort(request, pk)
    enrollment = _enrollment(cohort, enrollment_pk)
    if _closed_refusal(request, cohort, CLOSED_TO_WITHDRAWALS):
        return redirect("cohorts:dashboard", pk=cohort.pk)
    return _confirm_with_reason(
        request,
        cohort,
        ReasonForm,
        "cohorts/student_withdraw.html",
        {"enrollment": enrollment},
        enrollment_withdraw,
        f"{enrollment.user} is withdrawn from the cohort.",
        "reason",
        enrollment=enrollment,
    )


@permission_required("enrolments.manage_enrolments")
@require_POST
def student_resend(request: AuthenticatedRequest, pk: int, enrollment_pk: int) -> HttpResponse:
    cohort = _cohort(request, pk)
    enrollment = _enrollment(cohort, enrollment_pk)
    _run(
        request,
        enrollment_invitation_resend,
        f"Invitation sent again to {enrollment.user.email}.",
        enrollment=enrollment,
    )
    return redirect("cohorts:dashboard", pk=cohort.pk)


@permission_required("cohorts.manage_cohorts")
@require_POST
def cohort_reviewers(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk)
    form = ReviewerForm(request.POST, verifiers=reviewers_to_choose())
    if form.is_valid():
        allowed = request.POST.get("action") != "revoke"
        reviewer = form.cleaned_data["reviewer"]
        verb = "may now review" if allowed else "no longer reviews"
        _run(
            request,
            cohort_reviewer_set,
            f"{reviewer} {verb} this cohort.",
            cohort=cohort,
            reviewer=reviewer,
            allowed=allowed,
        )
    else:
        messages.error(request, "Choose a verifier.")
    return redirect("cohorts:dashboard", pk=cohort.pk)


def _responsible_form(cohort: Cohort, data=None) -> ResponsibleAdminsForm:
    return ResponsibleAdminsForm(
        data,
        choices=responsible_admin_choices(cohort=cohort),
        initial={"admins": list(cohort.responsible_admins.values_list("pk", flat=True))},
    )


@permission_required("cohorts.manage_cohorts")
def cohort_responsible_admins(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The responsible admins card's form on a page of its own, where its errors are shown."""
    cohort = _cohort(request, pk)
    form = _responsible_form(cohort, request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            cohort_responsible_admins_set(
                cohort=cohort, actor=request.user, admins=list(form.cleaned_data["admins"])
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The cohort's responsible admins are saved.")
            return redirect("cohorts:dashboard", pk=cohort.pk)
    return render(
        request, "cohorts/cohort_responsible_admins.html", {"cohort": cohort, "form": form}
    )


@permission_required("cohorts.manage_cohorts")
def document_types(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "cohorts/document_types.html", {"document_types": document_type_list()})


@permission_required("cohorts.manage_cohorts")
def document_type_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    document_type = get_object_or_404(DocumentType, pk=pk) if pk else DocumentType()
    form = DocumentTypeForm(request.POST or None, instance=document_type)
    if request.method == "POST" and form.is_valid():
        document_type_save(actor=request.user, document_type=form.save(commit=False))
        messages.success(request, f"“{document_type.name}” saved.")
        return redirect("cohorts:document_types")
    return render(
        request, "cohorts/document_type_form.html", {"form": form, "document_type": document_type}
    )
