"""The review pages: the queue, one document beside its student's details with the decision,
the document's file for the inline viewer, and an enrolment's full document history. Every
lookup goes through verification.selectors, which only finds what the reviewer may see: any
other id is a 404, by page, by filter or by file URL."""

from urllib.parse import urlencode

from csp.constants import NONE, SELF
from csp.decorators import csp_replace
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from enrolments.models import CohortEnrollment, DocumentStatus, StudentDocument
from enrolments.scanning import scanning_enabled
from enrolments.selectors import enrollment_gateway_waiting, enrollment_steps
from enrolments.uploads import stored_file_response
from integrations.selectors import sync_state_for
from learners.selectors import learner_details_rows
from verification.forms import BulkApproveForm, DecisionForm, QueueFilterForm
from verification.id_check import id_number_check
from verification.selectors import (
    document_for_review,
    document_next_for_review,
    document_review_enrollment,
    document_versions,
    documents_ticked,
    enrollment_for_review,
    review_queue,
    review_queue_counts,
)
from verification.services import document_review, documents_bulk_approve

FILTER_NAMES = ("cohort", "document_type", "waiting")
# What a browser may show inline from our own origin; anything else is only ever downloaded.
INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png"}
IMAGE_TYPES = {"image/jpeg", "image/png"}


def _filter_query(request: HttpRequest) -> str:
    """The queue's filters as a query string, carried from the queue to each review and on."""
    return urlencode(
        [(name, request.GET[name]) for name in FILTER_NAMES if request.GET.get(name, "").strip()]
    )


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


def _document(request: AuthenticatedRequest, pk: int) -> StudentDocument:
    try:
        return document_for_review(user=request.user, pk=pk)
    except StudentDocument.DoesNotExist as missing:
        raise Http404 from missing


@permission_required("verification.review_documents")
def queue(request: AuthenticatedRequest) -> HttpResponse:
    filters = QueueFilterForm(request.GET or None, user=request.user)
    documents = review_queue(user=request.user, **filters.selector_filters())
    query = _filter_query(request)
    return render(
        request,
        "verification/queue.html",
        {
            "filters": filters,
            "page": list_page(request, documents),
            "counts": review_queue_counts(user=request.user),
            "query": query,
            "review_query": f"?{query}" if query else "",
        },
    )


@permission_required("verification.review_documents")
@require_POST
def bulk_approve(request: AuthenticatedRequest) -> HttpResponse:
    form = BulkApproveForm(request.POST)
    back = _with_query(reverse("verification:queue"), _filter_query(request))
    if not form.is_valid():
        messages.error(request, " ".join(map(str, form.errors["documents"])))
        return redirect(back)
    ids = form.cleaned_data["documents"]
    documents = list(documents_ticked(user=request.user, pks=ids))
    result = documents_bulk_approve(documents=documents, reviewer=request.user)
    if result.approved:
        count = len(result.approved)
        messages.success(request, f"Approved {count} document{'s' if count != 1 else ''}.")
    for document, refusal in result.refused:
        messages.warning(
            request, f"{document.document_type} of {document.enrollment.user}: {refusal}"
        )
    missing = len(ids) - len(documents)
    if missing:
        messages.warning(
            request,
            f"{missing} of the ticked documents {'is' if missing == 1 else 'are'} no longer "
            "waiting for review.",
        )
    return redirect(back)


@permission_required("verification.review_documents")
@never_cache
@require_http_methods(["GET", "POST"])
def document_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One document beside its student's details, with the decision while it waits for one.
    After a decision, the next document of the (filtered) queue."""
    document = _document(request, pk)
    query = _filter_query(request)
    form = DecisionForm(request.POST or None, document_type_name=document.document_type.name)
    if request.method == "POST" and form.is_valid():
        try:
            document_review(
                document=document,
                reviewer=request.user,
                approve=form.approve,
                reason=form.reason(),
                seconds_spent=form.seconds_spent(),
            )
        except ValidationError as refusal:
            # Another reviewer was first, or the student sent a new version meanwhile.
            messages.error(request, " ".join(refusal.messages))
            return redirect(_with_query(reverse("verification:document", args=[pk]), query))
        student = document.enrollment.user.full_name or document.enrollment.user.email
        verb = "Approved" if form.approve else "Rejected"
        messages.success(request, f"{verb}: {document.document_type} of {student}.")
        return _to_next(request, document, query)

    filters = QueueFilterForm(request.GET or None, user=request.user)
    upcoming = document_next_for_review(
        user=request.user, after=document, filters=filters.selector_filters()
    )
    versions = document_versions(document=document)
    decision = next(
        (
            verification
            for version in versions
            if version.pk == document.pk
            for verification in version.verifications.all()
        ),
        None,
    )
    # The enrolment the document is reviewed in: the one it was uploaded for, or another of the
    # learner's that uses it again (document_for_review found one).
    enrollment = document_review_enrollment(user=request.user, document=document)
    enrollment = enrollment or document.enrollment
    return render(
        request,
        "verification/document_review.html",
        {
            "document": document,
            "enrollment": enrollment,
            "form": form,
            "can_decide": document.is_current
            and document.status == DocumentStatus.PENDING
            and enrollment.can_change,
            "decision": decision,
            "versions": versions,
            "next_document": upcoming,
            "query": query,
            "review_query": f"?{query}" if query else "",
            "is_image": document.content_type in IMAGE_TYPES,
            "is_pdf": document.content_type == "application/pdf",
            "id_check": id_number_check(enrollment.learner),
            # Race and disability (special personal information) are left out: no document
            # decision depends on them.
            "student_details": learner_details_rows(enrollment.learner, demographics=False),
            "scanning_enabled": scanning_enabled(),
        },
        status=400 if request.method == "POST" else 200,
    )


def _to_next(request: AuthenticatedRequest, document: StudentDocument, query: str) -> HttpResponse:
    filters = QueueFilterForm(request.GET or None, user=request.user)
    upcoming = document_next_for_review(
        user=request.user, after=document, filters=filters.selector_filters()
    )
    if upcoming is None:
        messages.info(request, "Nothing else is waiting for review.")
        return redirect(_with_query(reverse("verification:queue"), query))
    return redirect(_with_query(reverse("verification:document", args=[upcoming.pk]), query))


@permission_required("verification.review_documents")
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF], "default-src": [NONE], "object-src": [SELF]})
def document_file(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The file of a document the reviewer may see, for the review page's viewer (inline, and
    framable by our own pages only) or, with ?download, as a download. Never a public URL."""
    document = _document(request, pk)
    if not document.file:
        raise Http404("The file was removed (quarantined).")
    inline = document.content_type in INLINE_TYPES and "download" not in request.GET
    try:
        return stored_file_response(
            file=document.file,
            filename=document.original_name,
            content_type=document.content_type if inline else "application/octet-stream",
            as_attachment=not inline,
        )
    except FileNotFoundError as missing:
        raise Http404 from missing


@permission_required("verification.review_documents")
def enrollment_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A student's enrolment as reviewers see it: their details, the ID number check and every
    version of every document with each decision, who made it and when (a document verified
    for another of the learner's enrolments and used again here among them)."""
    try:
        enrollment = enrollment_for_review(user=request.user, pk=pk)
    except CohortEnrollment.DoesNotExist as missing:
        raise Http404 from missing
    all_steps = enrollment_steps(enrollment)
    steps = [step for step in all_steps if step.kind == "document"]
    required = {step.document_type.pk for step in steps if step.document_type is not None}
    # Uploads for this enrolment of documents its cohort no longer asks for.
    others: dict[int, list[StudentDocument]] = {}
    for document in enrollment.learner.documents.all():
        if document.enrollment_id == enrollment.pk and document.document_type_id not in required:
            others.setdefault(document.document_type_id, []).append(document)
    histories = [
        {
            "document_type": step.document_type,
            "status": step.status,
            "step": step,
            "versions": [step.document, *step.earlier_documents]
            if step.document
            else list(step.earlier_documents),
        }
        for step in steps
    ] + [
        {"document_type": versions[0].document_type, "status": None, "versions": versions}
        for versions in others.values()
    ]
    sync = sync_state_for(entity_type="enrolments.cohortenrollment", entity_id=enrollment.pk)
    return render(
        request,
        "verification/enrollment_detail.html",
        {
            "enrollment": enrollment,
            "histories": histories,
            "supporting_steps": [step for step in all_steps if step.kind == "supporting"],
            "id_check": id_number_check(enrollment.learner),
            # Race and disability (special personal information) are left out: no document
            # decision depends on them.
            "student_details": learner_details_rows(enrollment.learner, demographics=False),
            "sync": sync,
            "sync_waiting": enrollment_gateway_waiting(enrollment, has_job=sync is not None),
        },
    )
