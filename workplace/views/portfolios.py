"""The learner's portfolios of evidence: their courses' outcomes with each portfolio's standing
and confirmed hours, one portfolio with its evidence and history, adding evidence (a confirmed
logbook entry, an observation report or an uploaded document), removing evidence not yet
handed in, handing in and reopening after "not yet competent". Anyone who reaches a portfolio
(workplace.access.portfolios_for) reads it; only its learner changes it; anyone else gets the
audited 404. Every write goes through workplace.services.portfolios."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from academics.models import Outcome
from accounts.http import AuthenticatedRequest
from accounts.models import User
from accounts.permissions import permission_check
from accounts.refusals import refusal_show
from delivery.models import CourseEnrollment
from enrolments.scanning import upload_scan_status
from enrolments.uploads import (
    StorageFailed,
    UploadGuard,
    checked_upload_store,
    max_size_bytes,
    stored_file_response,
)
from learners.selectors import learner_of_user
from workplace.access import ASSESS, is_own_portfolio, portfolios_for
from workplace.forms.portfolios import (
    DocumentEvidenceForm,
    EntryEvidenceForm,
    ObservationEvidenceForm,
)
from workplace.models import Portfolio, PortfolioEvidence, PortfolioStatus
from workplace.selectors.portfolios import (
    entries_to_add,
    learner_course_enrollment,
    learner_portfolio_overview,
    observations_to_add,
    portfolio_evidence,
    portfolio_for_user,
    portfolio_history,
)
from workplace.services.evidence import evidence_document_type, evidence_is_readable
from workplace.services.portfolios import (
    evidence_add_document,
    evidence_add_entry,
    evidence_add_observation,
    evidence_remove,
    portfolio_open,
    portfolio_reopen,
    portfolio_submit,
)

DOCUMENT_TYPE_NAME = "Portfolio evidence"


def not_reached(user: User, action: str) -> None:
    """The audited 404 for something `user` may not reach."""
    permission_check(actor=user, action=action, allowed=False)


def reached_portfolio(request: AuthenticatedRequest, pk: int, action: str) -> Portfolio:
    try:
        return portfolio_for_user(request.user, pk)
    except Portfolio.DoesNotExist:
        not_reached(request.user, action)
        raise


def own_portfolio(request: AuthenticatedRequest, pk: int, action: str) -> Portfolio:
    """A portfolio of the signed-in learner's own; anyone else's is the audited 404."""
    portfolio = reached_portfolio(request, pk, action)
    if not is_own_portfolio(request.user, portfolio):
        not_reached(request.user, action)
    return portfolio


def evidence_rows(
    items: list[PortfolioEvidence],
) -> list[tuple[PortfolioEvidence, bool]]:
    """Each piece of evidence with whether its file can be opened (documents only)."""
    return [(item, item.kind == "document" and evidence_is_readable(item)) for item in items]


@login_required
def my_portfolios(request: AuthenticatedRequest) -> HttpResponse:
    """The learner's courses with their outcomes: where each portfolio stands and the
    confirmed logbook hours that practised it."""
    learner = learner_of_user(request.user)
    if learner is None:
        raise Http404("There is no learner record for this account.")
    return render(
        request,
        "workplace/portfolios/my_portfolios.html",
        {"courses": learner_portfolio_overview(learner)},
    )


@login_required
@require_POST
def portfolio_open_view(
    request: AuthenticatedRequest, course_enrollment_pk: int, outcome_pk: int
) -> HttpResponse:
    """Open (the first time: make) the learner's portfolio for an outcome."""
    action = "view:workplace.portfolio_open"
    try:
        course_enrollment = learner_course_enrollment(request.user, course_enrollment_pk)
    except CourseEnrollment.DoesNotExist:
        not_reached(request.user, action)
        raise
    outcome = get_object_or_404(
        Outcome, pk=outcome_pk, course=course_enrollment.course, is_active=True
    )
    try:
        portfolio = portfolio_open(
            actor=request.user, course_enrollment=course_enrollment, outcome=outcome
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("workplace:my_portfolios")
    return redirect(portfolio)


@login_required
@never_cache
def portfolio_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The portfolio: its outcome, its evidence and the history of its submissions; the
    learner's actions for its learner, the way to assess for an assessor."""
    portfolio = reached_portfolio(request, pk, "view:workplace.portfolio")
    own = is_own_portfolio(request.user, portfolio)
    return render(
        request,
        "workplace/portfolios/portfolio.html",
        {
            "portfolio": portfolio,
            "learner": portfolio.course_enrollment.enrollment.learner,
            "evidence": evidence_rows(portfolio_evidence(portfolio)),
            "history": portfolio_history(portfolio),
            "is_own": own,
            "is_draft": portfolio.status == PortfolioStatus.DRAFT,
            "can_remove": own and portfolio.status == PortfolioStatus.DRAFT,
            "may_assess": (
                not own
                and portfolio.status == PortfolioStatus.SUBMITTED
                and request.user.may(ASSESS)
            ),
        },
    )


# --- Adding evidence --------------------------------------------------------------------------


def _add_page(
    request: AuthenticatedRequest,
    portfolio: Portfolio,
    *,
    entry_form: Form | None = None,
    observation_form: Form | None = None,
    document_form: Form | None = None,
    upload_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "workplace/portfolios/evidence_add.html",
        {
            "portfolio": portfolio,
            "is_draft": portfolio.status == PortfolioStatus.DRAFT,
            "entries": list(entries_to_add(portfolio)),
            "observations": list(observations_to_add(portfolio)),
            "entry_form": entry_form,
            "observation_form": observation_form,
            "document_form": document_form or DocumentEvidenceForm(),
            "upload_errors": upload_errors or [],
        },
        status=status,
    )


@csrf_exempt
@login_required
@never_cache
def portfolio_evidence_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The evidence the learner may add, and adding one (POST `kind`: entry, observation or
    document). As for students' documents, an upload's size limit is enforced while the body
    streams in, which needs our upload handler installed before anything reads the body; CSRF
    is checked after that."""
    portfolio = own_portfolio(request, pk, "view:workplace.portfolio_evidence_add")
    guard = UploadGuard.install(request, max_size_bytes(evidence_document_type(DOCUMENT_TYPE_NAME)))
    return _evidence_add(request, portfolio, guard)


@csrf_protect
def _evidence_add(
    request: AuthenticatedRequest, portfolio: Portfolio, guard: UploadGuard
) -> HttpResponse:
    if request.method != "POST":
        return _add_page(request, portfolio)
    kind = request.POST.get("kind", "")
    if kind == "entry":
        entry_form = EntryEvidenceForm(request.POST, entries=entries_to_add(portfolio))
        if entry_form.is_valid():
            try:
                evidence = evidence_add_entry(
                    actor=request.user, portfolio=portfolio, entry=entry_form.cleaned_data["entry"]
                )
            except ValidationError as error:
                refusal_show(entry_form, error)
            else:
                messages.success(request, f"{evidence.title} is added to the portfolio.")
                return redirect(portfolio)
        return _add_page(request, portfolio, entry_form=entry_form, status=400)
    if kind == "observation":
        observation_form = ObservationEvidenceForm(
            request.POST, observations=observations_to_add(portfolio)
        )
        if observation_form.is_valid():
            try:
                evidence = evidence_add_observation(
                    actor=request.user,
                    portfolio=portfolio,
                    observation=observation_form.cleaned_data["observation"],
                )
            except ValidationError as error:
                refusal_show(observation_form, error)
            else:
                messages.success(request, f"{evidence.title} is added to the portfolio.")
                return redirect(portfolio)
        return _add_page(request, portfolio, observation_form=observation_form, status=400)
    return _document_add(request, portfolio, guard)


def _document_add(
    request: AuthenticatedRequest, portfolio: Portfolio, guard: UploadGuard
) -> HttpResponse:
    form = DocumentEvidenceForm(request.POST, request.FILES)
    try:
        evidence = checked_upload_store(
            form=form,
            guard=guard,
            document_type=evidence_document_type(DOCUMENT_TYPE_NAME),
            store=lambda checked: evidence_add_document(
                actor=request.user,
                portfolio=portfolio,
                checked=checked,
                scan_status=upload_scan_status(),
                title=form.cleaned_data.get("title") or "",
            ),
            what=f"portfolio evidence of portfolio {portfolio.pk}",
        )
    except ValidationError as error:
        return _add_page(
            request,
            portfolio,
            document_form=DocumentEvidenceForm(initial={"title": request.POST.get("title", "")}),
            upload_errors=error.messages,
            status=503 if isinstance(error, StorageFailed) else 400,
        )
    messages.success(request, f"{evidence.title} is added to the portfolio.")
    return redirect(portfolio)


@login_required
@never_cache
def portfolio_evidence_remove(
    request: AuthenticatedRequest, pk: int, evidence_pk: int
) -> HttpResponse:
    """Remove evidence not yet handed in, after a confirmation."""
    action = "view:workplace.portfolio_evidence_remove"
    portfolio = own_portfolio(request, pk, action)
    evidence = PortfolioEvidence.objects.filter(pk=evidence_pk, portfolio=portfolio).first()
    if evidence is None:
        not_reached(request.user, action)
        raise Http404
    form = Form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            evidence_remove(actor=request.user, portfolio=portfolio, evidence=evidence)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{evidence.title} is removed from the portfolio.")
            return redirect(portfolio)
    return render(
        request,
        "workplace/portfolios/evidence_remove.html",
        {"portfolio": portfolio, "item": evidence, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
def portfolio_evidence_file(request: AuthenticatedRequest, evidence_pk: int) -> HttpResponseBase:
    """A document of a portfolio the person reaches, streamed or through a short-lived signed
    URL, never a public one; a file waiting for the virus scan, or removed by it, is not
    found."""
    evidence = (
        PortfolioEvidence.objects.filter(
            pk=evidence_pk,
            kind="document",
            portfolio__in=portfolios_for(request.user),
        )
        .select_related("portfolio")
        .first()
    )
    if evidence is None:
        not_reached(request.user, "view:workplace.portfolio_evidence_file")
        raise Http404
    if not evidence_is_readable(evidence):
        raise Http404("This file is not available.")
    return stored_file_response(
        file=evidence.file,
        filename=evidence.original_name,
        content_type=evidence.content_type,
        as_attachment=True,
    )


# --- Handing in and reopening -----------------------------------------------------------------


@login_required
@never_cache
def portfolio_submit_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Hand the portfolio in, after a confirmation: the evidence then stays."""
    portfolio = own_portfolio(request, pk, "view:workplace.portfolio_submit")
    form = Form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            submission = portfolio_submit(actor=request.user, portfolio=portfolio)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request,
                f"Submission {submission.number} is handed in: an assessor will decide on it.",
            )
            return redirect(portfolio)
    evidence = portfolio_evidence(portfolio)
    context: dict[str, Any] = {
        "portfolio": portfolio,
        "form": form,
        "new_evidence": [item for item in evidence if item.submission_id is None],
        "earlier_evidence": [item for item in evidence if item.submission_id is not None],
    }
    return render(
        request,
        "workplace/portfolios/submit.html",
        context,
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def portfolio_reopen_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """After "not yet competent": work on the evidence again (nothing is lost)."""
    portfolio = own_portfolio(request, pk, "view:workplace.portfolio_reopen")
    try:
        portfolio_reopen(actor=request.user, portfolio=portfolio)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, "The portfolio is open again: add evidence for the feedback, then hand it in."
        )
    return redirect(portfolio)
