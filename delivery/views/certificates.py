"""Certificate pages: the templates' wording, issuing per learner or for a cohort, revoking and
reissuing (for who issues certificates, in the cohorts they reach); the learner's certificates
and transcript; and the public verify page, by code or by PDF, rate-limited per address."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check, permission_required
from delivery.access import ALL_COHORTS
from delivery.forms.certificates import (
    CertificateTemplateForm,
    ReasonForm,
    VerifyCodeForm,
    VerifyPdfForm,
)
from delivery.models import Certificate, CertificateKind
from delivery.selectors import certificates as selectors
from delivery.services.certificates import (
    ISSUE,
    TEMPLATE_FIELDS,
    certificate_issue,
    certificate_reissue,
    certificate_revoke,
    certificate_template_for,
    certificate_template_save,
    certificates_due,
    certificates_issue_for_cohort,
)
from enrolments.models import CohortEnrollment
from enrolments.uploads import stored_file_response
from signing.http import pdf_response
from tenants.ratelimits import rate_limited

VERIFY_RATE = "30/h"
# A certificate is a page or two; nothing larger is one of ours.
MAX_VERIFY_BYTES = 5 * 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024
TOO_LARGE_TO_VERIFY = "The file is larger than any certificate we issue."
TOO_MANY_CHECKS = "Too many checks from your address; try again in an hour."
# A transcript is sealed as it is asked for: a learner needs a few, not a stream. Counted per
# person (the cache's keys are per institution).
TRANSCRIPT_RATE = "20/h"


# Templates


@permission_required(ISSUE)
def certificate_index(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "delivery/certificates/index.html",
        {"page": list_page(request, selectors.cohorts_for_certificates(user=request.user))},
    )


def _templates_check(request: AuthenticatedRequest) -> None:
    """The wording is the institution's: someone limited to some cohorts gets the 404."""
    permission_check(
        actor=request.user,
        action="view:delivery.certificate_templates",
        allowed=request.user.may(ALL_COHORTS),
    )


@permission_required(ISSUE)
def certificate_templates(request: AuthenticatedRequest) -> HttpResponse:
    _templates_check(request)
    templates = [certificate_template_for(kind) for kind in CertificateKind.values]
    return render(request, "delivery/certificates/templates.html", {"templates": templates})


def _kind(kind: str) -> str:
    if kind not in CertificateKind.values:
        raise Http404("No such kind of certificate.")
    return kind


@permission_required(ISSUE)
def certificate_template_edit(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    _templates_check(request)
    template = certificate_template_for(_kind(kind))
    form = CertificateTemplateForm(
        request.POST or None,
        initial={name: getattr(template, name) for name in TEMPLATE_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            certificate_template_save(kind=kind, actor=request.user, values=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"The {template.get_kind_display().lower()} wording is saved. Certificates "
                "issued from now on use it.",
            )
            return redirect("delivery:certificate_templates")
    return render(
        request, "delivery/certificates/template_form.html", {"template": template, "form": form}
    )


@permission_required(ISSUE)
def certificate_template_preview(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    _templates_check(request)
    return pdf_response(selectors.template_preview_pdf(_kind(kind)), f"{slugify(kind)}-preview.pdf")


# Issuing


def _cohort(request: AuthenticatedRequest, pk: int):
    cohort = selectors.cohort_for_certificates(user=request.user, pk=pk)
    if cohort is None:
        raise Http404("No such cohort.")
    return cohort


@permission_required(ISSUE)
def cohort_certificates(request: AuthenticatedRequest, cohort_pk: int) -> HttpResponse:
    """The cohort's learners with their outcome and certificates; issuing to everyone due."""
    cohort = _cohort(request, cohort_pk)
    if request.method == "POST":
        try:
            queued = certificates_issue_for_cohort(cohort=cohort, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Issuing {queued} certificate{'s' if queued != 1 else ''}. They appear below as "
                "they are sealed: reload the page in a minute.",
            )
        return redirect("delivery:cohort_certificates", cohort_pk=cohort.pk)
    return render(
        request,
        "delivery/certificates/cohort.html",
        {
            "cohort": cohort,
            "page": list_page(request, selectors.cohort_certificate_rows(cohort), per_page=100),
            "due": len(certificates_due(cohort)),
        },
    )


@require_POST
@permission_required(ISSUE)
def certificate_issue_view(
    request: AuthenticatedRequest, cohort_pk: int, enrollment_pk: int
) -> HttpResponse:
    cohort = _cohort(request, cohort_pk)
    enrollment = get_object_or_404(CohortEnrollment, cohort=cohort, pk=enrollment_pk)
    try:
        certificate = certificate_issue(enrollment=enrollment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("delivery:cohort_certificates", cohort_pk=cohort.pk)
    messages.success(request, f"Issued {certificate}.")
    return redirect("delivery:certificate", pk=certificate.pk)


def _certificate(request: AuthenticatedRequest, pk: int) -> Certificate:
    certificate = selectors.certificate_for_staff(user=request.user, pk=pk)
    if certificate is None:
        raise Http404("No such certificate.")
    return certificate


@permission_required(ISSUE)
def certificate_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    certificate = _certificate(request, pk)
    return render(
        request,
        "delivery/certificates/detail.html",
        {
            "certificate": certificate,
            "successor": selectors.certificate_successor(certificate),
            "verify_link": selectors.verify_url(certificate.verification_code),
        },
    )


def _filename(certificate: Certificate) -> str:
    return f"{slugify(certificate.get_kind_display())}-{certificate.verification_code}.pdf"


@permission_required(ISSUE)
def certificate_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    certificate = _certificate(request, pk)
    return stored_file_response(
        file=certificate.pdf, filename=_filename(certificate), content_type="application/pdf"
    )


def _reason_page(request: AuthenticatedRequest, pk: int, *, reissue: bool) -> HttpResponse:
    certificate = _certificate(request, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        service = certificate_reissue if reissue else certificate_revoke
        try:
            result = service(
                certificate=certificate, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Issued {result} in place of {certificate}."
                if reissue
                else f"{certificate} is revoked: the verify page now says so.",
            )
            return redirect("delivery:certificate", pk=result.pk)
    return render(
        request,
        "delivery/certificates/reason.html",
        {"certificate": certificate, "form": form, "reissue": reissue},
    )


@permission_required(ISSUE)
def certificate_revoke_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _reason_page(request, pk, reissue=False)


@permission_required(ISSUE)
def certificate_reissue_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _reason_page(request, pk, reissue=True)


# The learner's


@login_required
def my_certificates(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "delivery/certificates/my_certificates.html",
        {"enrollments": selectors.learner_enrollments_with_results(user=request.user)},
    )


@login_required
def my_certificate_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    certificate = selectors.learner_certificate(user=request.user, pk=pk)
    if certificate is None:
        raise Http404("No such certificate.")
    return stored_file_response(
        file=certificate.pdf, filename=_filename(certificate), content_type="application/pdf"
    )


@login_required
def my_transcript(request: AuthenticatedRequest, enrollment_pk: int) -> HttpResponse:
    enrollment = selectors.learner_enrollment(user=request.user, pk=enrollment_pk)
    if enrollment is None:
        raise Http404("No such enrolment.")
    if rate_limited(request, group="delivery.transcript", key="user", rate=TRANSCRIPT_RATE):
        return render(request, "delivery/certificates/transcript_limited.html", status=429)
    response = pdf_response(selectors.transcript_pdf(enrollment), "transcript.pdf")
    response["Content-Disposition"] = 'attachment; filename="transcript.pdf"'
    return response


# Anyone


@csrf_exempt
def verify(request: HttpRequest) -> HttpResponse:
    """Anyone may check a code or a PDF. Nothing of a POST is read before its address is within
    the rate limit and its declared length within the size limit; the CSRF check, which reads
    the body, comes after (as on signing's verify page)."""
    if request.method == "POST" or request.GET.get("code"):
        if rate_limited(request, group="delivery.certificate_verify", key="ip", rate=VERIFY_RATE):
            return _verify_page(request, refused=TOO_MANY_CHECKS, status=429)
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_VERIFY_BYTES + MULTIPART_OVERHEAD:
            return _verify_page(request, refused=TOO_LARGE_TO_VERIFY, status=413)
    return _verify(request)


def _verify_page(
    request: HttpRequest,
    *,
    code_form: VerifyCodeForm | None = None,
    pdf_form: VerifyPdfForm | None = None,
    check: selectors.CertificateCheck | None = None,
    refused: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "delivery/certificates/verify.html",
        {
            "code_form": code_form or VerifyCodeForm(),
            "pdf_form": pdf_form or VerifyPdfForm(),
            "check": check,
            "refused": refused,
        },
        status=status,
    )


@csrf_protect
def _verify(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        pdf_form = VerifyPdfForm(request.POST, request.FILES)
        if not pdf_form.is_valid():
            return _verify_page(request, pdf_form=pdf_form, status=422)
        upload = pdf_form.cleaned_data["document"]
        if upload.size > MAX_VERIFY_BYTES:
            pdf_form.add_error("document", TOO_LARGE_TO_VERIFY)
            return _verify_page(request, pdf_form=pdf_form, status=413)
        check = selectors.certificate_check_pdf(upload.read())
        return _verify_page(request, check=check, status=200 if check.certificate else 422)
    if "code" in request.GET:
        code_form = VerifyCodeForm(request.GET)
        if not code_form.is_valid():
            return _verify_page(request, code_form=code_form, status=422)
        check = selectors.certificate_check_code(code_form.cleaned_data["code"])
        return _verify_page(
            request, code_form=code_form, check=check, status=200 if check.certificate else 404
        )
    return _verify_page(request)
