"""Template pages for admins; the signing page and verify page for anyone with the link or the
file. A signing link grants no session: every request is checked against the token alone."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest, SiteRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from signing import callbacks, selectors
from signing.forms import (
    DeclineForm,
    RevokeForm,
    SignForm,
    SubmissionFilterForm,
    TemplateForm,
    VerifyForm,
)
from signing.http import pdf_in_frame, pdf_response, stored_pdf_response
from signing.models import (
    MERGE_FIELDS,
    AgreementTemplate,
    SigningLink,
    Submission,
    SubmissionStatus,
    Submitter,
    signer_party,
)
from signing.services.completion import (
    CONSENT_TEXT,
    submitter_decline,
    submitter_open,
    submitter_sign,
)
from signing.services.links import link_resend
from signing.services.submissions import submission_resend, submission_revoke
from signing.services.templates import template_create, template_update
from tenants.ratelimits import (
    RateLimitUnavailable,
    public_upload,
    rate_limit_usage,
    rate_limited,
)

# Unknown tokens count against the address; past the limit every link page refuses for a while.
GUESS_RATE = "20/10m"
VERIFY_RATE = "30/h"
# Fresh links a signer may ask for from an old one: each e-mails them and ends the link they
# have, so an old link must not become a way to fill their inbox.
RESEND_RATE = "3/h"
MAX_VERIFY_BYTES = 25 * 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # the form's other fields and the parts' headers
TOO_LARGE_TO_VERIFY = "The file is larger than any document we seal."


@permission_required("signing.manage_templates")
def template_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request, "signing/template_list.html", {"templates": selectors.template_list_for_admin()}
    )


def _template_form_page(
    request: AuthenticatedRequest, template: AgreementTemplate | None
) -> HttpResponse:
    initial = (
        {
            "title": template.title,
            "body": template.body,
            **TemplateForm.initial_for(template.signer_roles),
        }
        if template
        else TemplateForm.initial_for(["student", "sponsor", "institution_admin"])
    )
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in ("title", "body", "signer_roles")}
        try:
            if template is None:
                template = template_create(actor=request.user, **values)
                messages.success(request, "Template created.")
            else:
                template = template_update(template=template, actor=request.user, **values)
                messages.success(request, f"Template saved (version {template.version}).")
        except ValidationError as error:
            if hasattr(error, "error_dict") and "signer_roles" in error.error_dict:
                error.error_dict["first_signer"] = error.error_dict.pop("signer_roles")
            form.add_error(None, error)
        else:
            return redirect("signing:template_edit", pk=template.pk)
    return render(
        request,
        "signing/template_form.html",
        {"form": form, "template": template, "merge_fields": MERGE_FIELDS},
    )


@permission_required("signing.manage_templates")
@require_POST
def template_body_preview(request: AuthenticatedRequest) -> HttpResponse:
    """The body as it will read, with example values: the editor's live preview."""
    try:
        preview, error = selectors.template_body_preview_html(request.POST.get("body", "")), ""
    except ValidationError as refusal:
        preview, error = "", " ".join(refusal.messages)
    return render(request, "signing/_body_preview.html", {"preview": preview, "error": error})


@permission_required("signing.manage_templates")
def template_create_view(request: AuthenticatedRequest) -> HttpResponse:
    return _template_form_page(request, None)


@permission_required("signing.manage_templates")
def template_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _template_form_page(request, get_object_or_404(AgreementTemplate, pk=pk))


@permission_required("signing.manage_templates")
@pdf_in_frame
def template_preview(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(AgreementTemplate, pk=pk)
    try:
        pdf = selectors.template_preview_pdf(template=template)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("signing:template_edit", pk=pk)
    return pdf_response(pdf, "preview.pdf")


@permission_required("signing.manage_templates")
def submission_list(request: AuthenticatedRequest) -> HttpResponse:
    """Every agreement sent, filtered by status and searched by title or signer."""
    filters = SubmissionFilterForm(request.GET or None)
    page = list_page(request, selectors.submission_list_for_admin(**filters.selector_filters()))
    selectors.subjects_attach(page.object_list)
    return render(request, "signing/submission_list.html", {"page": page, "filters": filters})


def _submission_or_404(pk: int) -> Submission:
    submission = selectors.submission_for_admin(pk)
    if submission is None:
        raise Http404
    return submission


@permission_required("signing.manage_templates")
def submission_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Who signs, who has, the trail, and the actions an open agreement allows."""
    submission = _submission_or_404(pk)
    selectors.subjects_attach([submission])
    return render(
        request,
        "signing/submission_detail.html",
        {
            "submission": submission,
            "next_signer": selectors.next_submitter(submission),
            "revoke_form": RevokeForm(),
        },
    )


@permission_required("signing.manage_templates")
@require_POST
def submission_resend_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    submission = get_object_or_404(Submission, pk=pk)
    try:
        submission_resend(submission=submission, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "A fresh link is on its way; the earlier one no longer works.")
    return redirect("signing:submission_detail", pk=pk)


@permission_required("signing.manage_templates")
@require_POST
def submission_revoke_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    submission = get_object_or_404(Submission, pk=pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(message) for e in form.errors.values() for message in e)
        )
        return redirect("signing:submission_detail", pk=pk)
    try:
        submission_revoke(
            submission=submission, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Agreement revoked: its links no longer work.")
    return redirect("signing:submission_detail", pk=pk)


@permission_required("signing.manage_templates")
@pdf_in_frame
def submission_original(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The document as it was frozen when sent, before anyone signed."""
    submission = get_object_or_404(Submission, pk=pk)
    return stored_pdf_response(submission.original_pdf, "agreement.pdf")


@permission_required("signing.manage_templates")
@pdf_in_frame
def submission_final(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The sealed PDF of a completed submission, for the institution's admins."""
    submission = get_object_or_404(Submission, pk=pk, status=SubmissionStatus.COMPLETED)
    return stored_pdf_response(submission.final_pdf, "signed-agreement.pdf")


def _too_many_guesses(request: HttpRequest) -> bool | None:
    """Whether this address has used up its unknown-token allowance (counted on misses only),
    or None when the counts cannot be read: a known token still opens its page then."""
    try:
        usage = rate_limit_usage(
            request, group="signing.link", key="ip", rate=GUESS_RATE, fail_closed=True
        )
    except RateLimitUnavailable:
        return None
    return usage is not None and usage["count"] >= usage["limit"]


def _unknown_token(request: HttpRequest, *, counted: bool) -> HttpResponse:
    """The answer to a token we do not know. Guessing is what the limit stops, so when the
    guess cannot be counted the answer is "try later", never whether the token exists."""
    if counted:
        try:
            rate_limit_usage(
                request, group="signing.link", key="ip", rate=GUESS_RATE, increment=True,
                fail_closed=True,
            )  # fmt: skip
        except RateLimitUnavailable:
            counted = False
    if not counted:
        response = render(request, "signing/link_unusable.html", {"state": "unavailable"},
                          status=503)  # fmt: skip
        response["Retry-After"] = "60"
        return response
    return render(request, "signing/link_unusable.html", {"state": "unknown"}, status=404)


def _link_page(request: HttpRequest, token: str) -> SigningLink | HttpResponse:
    """The link for `token` if it may be used now, or the page that says why not."""
    too_many = _too_many_guesses(request)
    if too_many:
        return render(request, "signing/link_unusable.html", {"state": "limited"}, status=429)
    link = selectors.link_for_token(token)
    if link is None:
        return _unknown_token(request, counted=too_many is not None)
    state = link.state
    if state != "usable":
        return render(
            request,
            "signing/link_unusable.html",
            {"state": state, "link": link, "submission": link.submitter.submission, "token": token},
            status=410,
        )
    earlier = selectors.waiting_for(link.submitter)
    if earlier is not None:
        return render(
            request, "signing/waiting.html", {"waiting_for": earlier, "link": link}, status=409
        )
    return link


def _back_to_start(request: SiteRequest, link: SigningLink, *, signed: bool) -> HttpResponse | None:
    """A signer signed in to their own account goes back to where they started (the student
    portal, say: signing.callbacks.register_return) with a message; None for anyone else."""
    submitter = link.submitter
    back = callbacks.return_for(submitter.submission.subject_type)
    user = getattr(request, "user", None)
    if back is None or user is None or not user.is_authenticated or user.pk != submitter.user_id:
        return None
    path, message = back(submitter.submission, signed)
    (messages.success if signed else messages.info)(request, message)
    return redirect(path)


def _return_to(request: HttpRequest) -> str:
    """Where a signer who came from a page of the app (the portal, the cohort page) goes back
    to once they have answered: `next`, if it is a path on this site; else nowhere."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _signed_message(submitter: Submitter) -> str:
    """What a signer is told on the page they return to: whether the agreement is complete,
    and if not, whose signature it still waits for."""
    submission = Submission.objects.get(pk=submitter.submission_id)
    if submission.status == SubmissionStatus.COMPLETED:
        return (
            f"You signed “{submission.title}”. Every party has signed: the sealed copy is on "
            "its way to each of you by e-mail."
        )
    waiting = [
        signer_party(signer.role)
        for signer in submission.submitters.filter(signed_at__isnull=True).order_by("order")
    ]
    return (
        f"You signed “{submission.title}”. Not signed yet by: {', '.join(waiting)}. It counts "
        "once every party has signed."
    )


def sign(request: SiteRequest, token: str) -> HttpResponse:
    link = _link_page(request, token)
    if isinstance(link, HttpResponse):
        return link
    sign_form = SignForm(request.POST if request.POST.get("action") == "sign" else None)
    decline_form = DeclineForm(request.POST if request.POST.get("action") == "decline" else None)
    try:
        if request.method == "POST" and sign_form.is_bound and sign_form.is_valid():
            data = sign_form.cleaned_data
            submitter_sign(
                link=link,
                signed_name=data["signed_name"],
                consent=data["consent"],
                signature_text=data["signature_text"],
                signature_png=data["signature_image"],
            )
            back = _return_to(request)
            if back:
                messages.success(request, _signed_message(link.submitter))
                return redirect(back)
            return _back_to_start(request, link, signed=True) or render(
                request, "signing/done.html", {"submitter": link.submitter, "signed": True}
            )
        if request.method == "POST" and decline_form.is_bound and decline_form.is_valid():
            submitter_decline(link=link, reason=decline_form.cleaned_data["reason"])
            back = _return_to(request)
            if back:
                messages.info(
                    request, "You declined the agreement; the institution has your reason."
                )
                return redirect(back)
            return _back_to_start(request, link, signed=False) or render(
                request, "signing/done.html", {"submitter": link.submitter, "signed": False}
            )
        if request.method == "GET":
            submitter_open(link=link)
    except ValidationError as error:
        (decline_form if decline_form.is_bound else sign_form).add_error(None, error)
    except PermissionDenied:
        fresh = selectors.link_for_token(token)
        if fresh is None or fresh.state != "usable":
            return redirect("signing_public:sign", token=token)  # its page says why
        # The link is fine but what signing does next is not allowed (a signer's account lost
        # the right to act for the institution, say): nothing was signed.
        (decline_form if decline_form.is_bound else sign_form).add_error(
            None,
            f"Your answer could not be recorded from this link. Ask {request.tenant.name}.",
        )
    return render(
        request,
        "signing/sign.html",
        {
            "link": link,
            "submitter": link.submitter,
            "submission": link.submitter.submission,
            "token": token,
            "form": sign_form,
            "decline_form": decline_form,
            "consent_text": CONSENT_TEXT,
            "document_html": selectors.submission_text_html(link.submitter.submission),
            "draw": sign_form.data.get("signature_mode") == "draw",  # kept after an error
            "subject_summary": selectors.subject_summary(link.submitter.submission),
            "next": _return_to(request),
        },
    )


@pdf_in_frame
def sign_document(request: HttpRequest, token: str) -> HttpResponse:
    link = _link_page(request, token)
    if isinstance(link, HttpResponse):
        raise Http404("No document for this link.")
    submission = link.submitter.submission
    return stored_pdf_response(submission.original_pdf, "agreement.pdf")


@require_POST
def link_resend_view(request: HttpRequest, token: str) -> HttpResponse:
    too_many = _too_many_guesses(request)
    if too_many:
        return render(request, "signing/link_unusable.html", {"state": "limited"}, status=429)
    link = selectors.link_for_token(token)
    if link is None:
        return _unknown_token(request, counted=too_many is not None)
    if link.state == "usable":
        return redirect("signing_public:sign", token=token)

    submitter = link.submitter
    resendable = submitter.submission.status == SubmissionStatus.PENDING and not submitter.is_done
    # Counted (atomically) only when a link may be sent: a refusal uses up nothing. Failing
    # open: the link goes only to the signer's own address.
    if resendable and rate_limited(
        request, group="signing.link_resend", key=lambda group, request: str(submitter.pk),
        rate=RESEND_RATE,
    ):  # fmt: skip
        return render(
            request,
            "signing/link_unusable.html",
            {
                "state": "closed",
                "message": "New links were sent to this address a short while ago. Open the "
                "newest one from your e-mail (check the spam folder too), or try again in an "
                "hour.",
            },
            status=429,
        )
    try:
        link_resend(link=link)
    except ValidationError as error:
        return render(
            request,
            "signing/link_unusable.html",
            {"state": "closed", "message": " ".join(error.messages)},
            status=410,
        )
    return render(request, "signing/link_resent.html", {"email": link.submitter.email})


def _verify_refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(
        request,
        "signing/verify.html",
        {"form": VerifyForm(), "result": {"ok": False, "reason": reason}},
        status=status,
    )


@public_upload(
    group="signing.verify",
    rate=VERIFY_RATE,
    max_bytes=MAX_VERIFY_BYTES + MULTIPART_OVERHEAD,
    too_large=TOO_LARGE_TO_VERIFY,
    refused=_verify_refused,
)
def verify(request: HttpRequest) -> HttpResponse:
    """Anyone may check a PDF here: rate and size are limited before the body is read."""
    form = VerifyForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["document"]
        if upload.size > MAX_VERIFY_BYTES:
            form.add_error("document", TOO_LARGE_TO_VERIFY)
        else:
            result = selectors.agreement_check(upload.read())
    return render(
        request,
        "signing/verify.html",
        {"form": form, "result": result},
        status=200 if result is None or result["ok"] else 422,
    )
