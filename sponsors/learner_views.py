"""The sponsor's page for a cohort's learner agreements, reached by e-mailed link without an
account (every request is checked against the token alone), and the cohort page's button
that sends that link."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_required
from cohorts.models import Cohort
from enrolments.selectors import agreements_awaiting_sponsor
from signing.http import pdf_in_frame, stored_pdf_response
from signing.models import Submission
from signing.services.completion import CONSENT_TEXT
from sponsors.learner_agreements import (
    sponsor_learner_agreement_decline,
    sponsor_learner_agreements_invite,
    sponsor_learner_agreements_sign,
    sponsor_learner_link_for_token,
)
from sponsors.models import SponsorLearnerLink
from sponsors.selectors import sponsor_learner_rows
from tenants.ratelimits import rate_limited

GUESS_RATE = "20/10m"


class SponsorSignForm(forms.Form):
    read_all = forms.BooleanField(
        required=False,
        label="I have read every agreement listed above, and I sign each of them for the sponsor.",
    )
    signed_name = forms.CharField(max_length=200, label="Your full name", required=False)
    signature_text = forms.CharField(
        max_length=200,
        label="Type your signature",
        required=False,
        help_text="It is stamped on each agreement you sign.",
    )
    consent = forms.BooleanField(required=False, label=CONSENT_TEXT)


@permission_required("sponsors.manage_sponsors")
@require_POST
def learner_agreements_invite_view(request: AuthenticatedRequest, cohort_pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort, pk=cohort_pk)
    try:
        sponsor_learner_agreements_invite(cohort=cohort, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "The sponsor has been e-mailed a link to sign the learners' agreements "
            "(an earlier link no longer works).",
        )
    return redirect("cohorts:dashboard", pk=cohort.pk)


def _link(request: HttpRequest, token: str) -> SponsorLearnerLink | HttpResponse:
    link = sponsor_learner_link_for_token(token)
    if link is None:
        if rate_limited(request, group="sponsors.learner_link", key="ip", rate=GUESS_RATE):
            return render(request, "sponsors/learner_link_unusable.html", status=429)
        return render(request, "sponsors/learner_link_unusable.html", status=404)
    if not link.is_usable:
        return render(request, "sponsors/learner_link_unusable.html", {"link": link}, status=410)
    return link


def learner_agreements(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(request, token)
    if isinstance(link, HttpResponse):
        return link
    waiting = list(agreements_awaiting_sponsor(cohort=link.cohort))
    action = request.POST.get("action", "")
    form = SponsorSignForm(
        request.POST if action.startswith("sign") else None,
        initial={"signed_name": link.sponsor.contact_name},
    )
    decline_problem = ""
    if request.method == "POST" and action.startswith("sign") and form.is_valid():
        if action == "sign-all":
            # The agreements the sponsor was shown (a hidden input each), never one that came
            # to wait for them since the page was loaded.
            chosen = [int(pk) for pk in request.POST.getlist("listed") if pk.isdigit()]
        else:
            chosen = [int(action.removeprefix("sign-"))] if action[5:].isdigit() else []
        try:
            signed = sponsor_learner_agreements_sign(
                link=link,
                submission_ids=chosen,
                signed_name=form.cleaned_data["signed_name"],
                signature_text=form.cleaned_data["signature_text"],
                consent=form.cleaned_data["consent"],
                read_all=form.cleaned_data["read_all"],
            )
        except ValidationError as error:
            for field, problems in getattr(error, "error_dict", {"__all__": error}).items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(
                request,
                f"You signed {signed} agreement{'s' if signed != 1 else ''} for "
                f"{link.sponsor.company_name}. Each now waits for the institution's signature; "
                "every party then receives the sealed copy by e-mail.",
            )
            return redirect("sponsor_public:learner_agreements", token=token)
    if request.method == "POST" and action.startswith("decline-"):
        try:
            sponsor_learner_agreement_decline(
                link=link,
                submission_id=int(action.removeprefix("decline-")),
                reason=request.POST.get(f"reason-{action.removeprefix('decline-')}", ""),
            )
        except (ValidationError, ValueError) as error:
            decline_problem = (
                " ".join(error.messages) if isinstance(error, ValidationError) else "Try again."
            )
            if "Say why you decline." in decline_problem:
                decline_problem = "Say why you decline: the institution reads your reason."
        else:
            messages.info(request, "You declined the agreement; the institution has your reason.")
            return redirect("sponsor_public:learner_agreements", token=token)
    return render(
        request,
        "sponsors/learner_agreements.html",
        {
            "link": link,
            "cohort": link.cohort,
            "sponsor": link.sponsor,
            "waiting": sponsor_learner_rows(waiting),
            "form": form,
            "token": token,
            "decline_problem": decline_problem,
        },
    )


@pdf_in_frame
def learner_agreement_document(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    link = _link(request, token)
    if isinstance(link, HttpResponse):
        raise Http404("No document for this link.")
    waiting = {
        enrollment.latest_agreement_id  # type: ignore[attr-defined]
        for enrollment in agreements_awaiting_sponsor(cohort=link.cohort)
    }
    if pk not in waiting:
        raise Http404("This agreement does not wait for the sponsor.")
    submission = get_object_or_404(Submission, pk=pk)
    return stored_pdf_response(submission.original_pdf, "agreement.pdf")
