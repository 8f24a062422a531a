"""The student portal: a student's own enrolments and, for each, their details, documents and
agreement. Every page looks the enrolment up among the signed-in student's own (withdrawn ones
excluded), so any other id is a 404; every write goes through enrolments.services."""

import logging
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedRequest
from cohorts.models import DocumentType
from enrolments.agreements import enrollment_agreement_start
from enrolments.forms import DocumentUploadForm
from enrolments.models import CohortEnrollment, StudentDocument, SupportingAgreement
from enrolments.scanning import document_scan_schedule, upload_scan_status
from enrolments.selectors import (
    EnrollmentStep,
    StepStatus,
    enrollment_agreement_document,
    enrollment_agreement_outcome,
    enrollment_document_prefetches,
    enrollment_steps,
    enrollments_for_student,
    supporting_agreement_document,
    supporting_signed_submission,
    with_agreement_outcome,
    with_supporting_outcome,
)
from enrolments.services import (
    CLOSED_TO_DETAILS,
    CLOSED_TO_UPLOADS,
    enrollment_details_save,
    enrollment_document_add,
    enrollment_open_check,
)
from enrolments.supporting import supporting_agreement_start
from enrolments.uploads import (
    UploadGuard,
    document_expiry_clean,
    document_upload_check,
    enrollment_quota_check,
    max_size_bytes,
    stored_file_response,
    too_large_error,
)
from learners.forms import LearnerDetailsForm
from learners.selectors import learner_details_rows
from signing.models import AgreementTemplate, SubmissionStatus
from tenants.services import REMOVE_PDF_ACTIVE_CONTENT
from tenants.storage import STORAGE_FAILED_MESSAGE

logger = logging.getLogger(__name__)


def _portal_enrollments(request: AuthenticatedRequest) -> QuerySet[CohortEnrollment]:
    """The signed-in student's enrolments with what the portal shows of them, in a fixed
    number of queries however many documents there are."""
    return (
        with_agreement_outcome(enrollments_for_student(user=request.user))
        .select_related("cohort__main_template", "learner")
        .prefetch_related(
            *enrollment_document_prefetches(),
            "cohort__supporting_templates",
            Prefetch(
                "supporting_agreements",
                queryset=with_supporting_outcome(SupportingAgreement.objects.all()),
            ),
        )
    )


def _portal_enrollment(request: AuthenticatedRequest, pk: int) -> CohortEnrollment:
    return get_object_or_404(_portal_enrollments(request), pk=pk)


def _progress(steps: list[EnrollmentStep]) -> dict:
    done = sum(step.status == StepStatus.DONE for step in steps)
    return {"done": done, "total": len(steps), "percent": round(100 * done / len(steps))}


def _document_step(enrollment: CohortEnrollment, document_type: DocumentType) -> EnrollmentStep:
    return next(
        step
        for step in enrollment_steps(enrollment)
        if step.document_type is not None and step.document_type.pk == document_type.pk
    )


@login_required
def my_enrolments(request: AuthenticatedRequest) -> HttpResponse:
    """A student's home. With a single enrolment they go straight to it."""
    enrollments = list(_portal_enrollments(request))
    if len(enrollments) == 1:
        return redirect("enrolments:detail", pk=enrollments[0].pk)
    rows = []
    for enrollment in enrollments:
        steps = enrollment_steps(enrollment)
        rows.append({"enrollment": enrollment, "progress": _progress(steps)})
    return render(request, "enrolments/my_enrolments.html", {"rows": rows})


def _kept(enrollment: CohortEnrollment, sealed: bool) -> list[str]:
    """What a student of a closed cohort still finds on its page."""
    kept = []
    if enrollment.learner.details_completed_at:
        kept.append("your details")
    if any(doc.enrollment_id == enrollment.pk for doc in enrollment.learner.documents.all()):
        kept.append("the documents you uploaded")
    if sealed:
        kept.append("your signed agreement")
    if any(agreement.signed_at for agreement in enrollment.supporting_agreements.all()):
        kept.append("the supporting agreements you signed")
    return kept


@login_required
def enrollment_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    enrollment = _portal_enrollment(request, pk)
    steps = enrollment_steps(enrollment)
    sealed = enrollment_agreement_outcome(enrollment).status == SubmissionStatus.COMPLETED
    return render(
        request,
        "enrolments/enrollment_detail.html",
        {
            "enrollment": enrollment,
            "steps": steps,
            "progress": _progress(steps),
            "details_summary": learner_details_rows(
                enrollment.learner, demographics=True, empty=None
            ),
            "sealed": sealed,
            "kept": _kept(enrollment, sealed) if enrollment.cohort.is_closed else [],
        },
    )


@login_required
@never_cache
def enrollment_details(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    enrollment = _portal_enrollment(request, pk)
    if enrollment.cohort.is_closed:
        messages.info(request, enrollment.cohort.closed_message(CLOSED_TO_DETAILS))
        return redirect("enrolments:detail", pk=enrollment.pk)
    if not enrollment.is_open:
        messages.info(request, "This enrolment is closed; your details can no longer change.")
        return redirect("enrolments:detail", pk=enrollment.pk)
    form = LearnerDetailsForm(request.POST or None, learner=enrollment.learner)
    if request.method == "POST" and form.is_valid():
        try:
            enrollment_details_save(
                enrollment=enrollment, actor=request.user, details=form.details()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your details are saved.")
            return redirect("enrolments:detail", pk=enrollment.pk)
    return render(
        request, "enrolments/enrollment_details.html", {"enrollment": enrollment, "form": form}
    )


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request: AuthenticatedRequest, pk: int, document_type_pk: int) -> HttpResponse:
    """Upload one required document (htmx answers with the document's card, a plain form post
    with a redirect). The size limit is enforced while the body streams in, and file names are
    recorded as sent, which needs our upload handler installed before anything reads the body;
    CSRF is checked after that."""
    enrollment = _portal_enrollment(request, pk)
    document_type = next(
        (
            required
            for required in enrollment.cohort.required_document_types.all()
            if required.pk == document_type_pk
        ),
        None,
    )
    if document_type is None:
        raise Http404("This cohort does not ask for that document.")
    guard = UploadGuard.install(request, max_size_bytes(document_type))
    return _document_upload(request, enrollment, document_type, guard)


def _document_store(
    request: AuthenticatedRequest,
    enrollment: CohortEnrollment,
    document_type: DocumentType,
    form: DocumentUploadForm,
) -> StudentDocument:
    """Check the upload and store it, or raise ValidationError saying what is wrong (a file
    the storage could not keep included: it is logged with its cause, and nothing of it stays,
    neither a row nor a file)."""
    expires_on = document_expiry_clean(document_type, form.cleaned_data["expires_on"])
    checked = document_upload_check(
        upload=form.cleaned_data["file"],
        document_type=document_type,
        remove_active_content=bool(request.tenant.settings.get(REMOVE_PDF_ACTIVE_CONTENT)),
    )
    try:
        enrollment_quota_check(enrollment=enrollment, size=checked.size)
        return enrollment_document_add(
            enrollment=enrollment,
            actor=request.user,
            document=checked.document(
                document_type=document_type,
                scan_status=upload_scan_status(),
                expires_on=expires_on,
            ),
        )
    except OSError as error:
        # The name, the person and the content stay out of the log: the enrolment's and the
        # document type's ids say where, the error says why.
        logger.error(
            "Could not store a document (enrolment %s, document type %s, %s bytes): %r",
            enrollment.pk,
            document_type.pk,
            checked.size,
            error,
            exc_info=error,
        )
        raise ValidationError(STORAGE_FAILED_MESSAGE, code="storage_failed") from error
    finally:
        checked.file.close()


@csrf_protect
def _document_upload(
    request: AuthenticatedRequest,
    enrollment: CohortEnrollment,
    document_type: DocumentType,
    guard: UploadGuard,
) -> HttpResponse:
    errors: list[str] = []
    uploaded = False
    status = 200
    if request.method == "POST":
        form = DocumentUploadForm(request.POST, request.FILES)
        try:
            # Nothing of the file matters once the cohort is closed: say so first.
            enrollment_open_check(enrollment, CLOSED_TO_UPLOADS)
            # Names first: a refused one may be one that Django dropped (such as "../").
            guard.sent_names_check()
            if guard.exceeded:
                raise too_large_error(document_type)
            if not form.is_valid():
                raise ValidationError(
                    [message for field in form.errors.values() for message in field]
                )
            document = _document_store(request, enrollment, document_type, form)
        except ValidationError as error:
            errors = error.messages
            # A plain form post says "try later" in its status too; htmx swaps only a 200.
            if getattr(error, "code", None) == "storage_failed" and not request.htmx:
                status = 503
        else:
            document_scan_schedule(document)
            uploaded = True
        if uploaded and not request.htmx:
            messages.success(request, f"{document_type.name} is uploaded and waiting for review.")
            return redirect(
                reverse("enrolments:detail", args=[enrollment.pk]) + f"#document-{document_type.pk}"
            )
        # Show the document as it now stands (a new version, or the refusal beside it).
        enrollment = _portal_enrollment(request, enrollment.pk)
    steps = enrollment_steps(enrollment)
    context = {
        "enrollment": enrollment,
        "step": _document_step(enrollment, document_type),
        "number": next(i for i, step in enumerate(steps, 1) if step.document_type == document_type),
        "errors": errors,
        "uploaded": uploaded,
        "progress": _progress(steps),
    }
    if request.htmx:
        return render(request, "enrolments/_document_step.html", {**context, "oob": True})
    return render(request, "enrolments/document_upload.html", context, status=status)


@login_required
def document_file(request: AuthenticatedRequest, pk: int, document_pk: int) -> HttpResponseBase:
    """One of the student's own uploads (for this enrolment or another of theirs: documents
    are the learner's), as a download: streamed by us, or a redirect to a signed URL that
    expires within five minutes (never a public URL). A quarantined file is gone, so it is not
    found."""
    enrollment = _portal_enrollment(request, pk)
    document = get_object_or_404(StudentDocument, learner_id=enrollment.learner_id, pk=document_pk)
    if not document.file:
        raise Http404("This file was removed.")
    return stored_file_response(
        file=document.file,
        filename=document.original_name,
        content_type=document.content_type,
        as_attachment=True,
    )


@login_required
def enrollment_agreement_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The student's own sealed agreement, once signed: the PDF with the signatures, the audit
    page and the institution's seal (the one e-mailed to them on completion)."""
    enrollment = _portal_enrollment(request, pk)
    document = enrollment_agreement_document(enrollment)
    submission = document.submission if document is not None else None
    if submission is None or submission.status != SubmissionStatus.COMPLETED:
        raise Http404("This agreement is not signed yet.")
    return stored_file_response(
        file=submission.final_pdf,
        filename="signed-agreement.pdf",
        content_type="application/pdf",
        as_attachment=True,
    )


@login_required
def enrollment_agreement(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The student's agreement as it was sent to them; 'Sign' (or 'Sign again', after they
    declined) goes to the signing page with a fresh link."""
    enrollment = _portal_enrollment(request, pk)
    document = enrollment_agreement_document(enrollment)
    submission = document.submission if document is not None else None
    waiting_for_others = (
        submission is not None
        and submission.status == SubmissionStatus.PENDING
        and any(s.role == "student" and s.signed_at for s in submission.submitters.all())
    )
    can_sign = (
        document is not None
        and enrollment.can_change
        and not enrollment.agreement_signed_at
        and not waiting_for_others
    )
    errors = []
    if request.method == "POST":
        try:
            url = enrollment_agreement_start(enrollment=enrollment, actor=request.user)
        except ValidationError as error:
            errors = error.messages
        else:
            # The same institution's signing page, on the host this page was reached on; once
            # signed, it brings the student back here.
            back = reverse("enrolments:detail", args=[enrollment.pk])
            return redirect(f"{urlsplit(url).path}?{urlencode({'next': back})}")
    return render(
        request,
        "enrolments/enrollment_agreement.html",
        {
            "enrollment": enrollment,
            "document": document,
            "errors": errors,
            "can_sign": can_sign,
            "waiting_for_others": waiting_for_others,
        },
    )


def _supporting_template(enrollment: CohortEnrollment, template_pk: int) -> AgreementTemplate:
    """One of the supporting agreements the enrolment's cohort asks for; any other is a 404."""
    template = next(
        (t for t in enrollment.cohort.supporting_templates.all() if t.pk == template_pk), None
    )
    if template is None:
        raise Http404("This cohort does not ask for that agreement.")
    return template


@login_required
def supporting_agreement(request: AuthenticatedRequest, pk: int, template_pk: int) -> HttpResponse:
    """A supporting agreement as it was sent to the student (or would be): "Sign" goes to the
    signing page with a fresh link, once the main agreement is signed; signing there brings
    the student back to the portal."""
    enrollment = _portal_enrollment(request, pk)
    template = _supporting_template(enrollment, template_pk)
    step = next(
        s for s in enrollment_steps(enrollment) if s.template is not None and s.template == template
    )
    errors = []
    if request.method == "POST":
        try:
            url = supporting_agreement_start(
                enrollment=enrollment, template=template, actor=request.user
            )
        except ValidationError as error:
            errors = error.messages
        else:
            return redirect(urlsplit(url).path)
    return render(
        request,
        "enrolments/supporting_agreement.html",
        {
            "enrollment": enrollment,
            "step": step,
            "document": supporting_agreement_document(enrollment, template),
            "signed": supporting_signed_submission(enrollment, template),
            "can_sign": enrollment.can_change and step.status in ("todo", "declined"),
            "errors": errors,
        },
    )


@login_required
def supporting_agreement_pdf(
    request: AuthenticatedRequest, pk: int, template_pk: int
) -> HttpResponseBase:
    """The student's own signed and sealed copy of a supporting agreement."""
    enrollment = _portal_enrollment(request, pk)
    submission = supporting_signed_submission(
        enrollment, _supporting_template(enrollment, template_pk)
    )
    if submission is None:
        raise Http404("This agreement is not signed yet.")
    return stored_file_response(
        file=submission.final_pdf,
        filename="signed-supporting-agreement.pdf",
        content_type="application/pdf",
        as_attachment=True,
    )
