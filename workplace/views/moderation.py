"""Moderation's pages: the overview (for who manages delivery: the course runs' assessors with
decisions no sample covers yet, drawing a sample, and the samples; for a moderator: their
samples), the policy, and one sample, where its moderator records verdicts and completes it
(staff who manage delivery read it). Anything else is the audited 404. Every write goes through
workplace.services.moderation."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import PAGE_SIZE, list_page
from accounts.permissions import permission_check, permission_required
from delivery.access import ALL_COHORTS
from workplace.access import MANAGE_DELIVERY, MODERATE
from workplace.forms.moderation import (
    ModerationPolicyForm,
    SampleDrawForm,
    VerdictForm,
    other_decision,
)
from workplace.models import ModerationItem, ModerationSample, SampleStatus, Verdict
from workplace.selectors.moderation import (
    awaiting_moderation,
    moderation_policy_current,
    moderators_for,
    sample_for,
    sample_items,
    samples_for,
)
from workplace.services.moderation import (
    moderation_policy_set,
    sample_complete,
    sample_draw,
    sample_verdict_record,
)

SAMPLES_PAGE = "samples_page"


def _refused(request: AuthenticatedRequest, action: str) -> None:
    permission_check(actor=request.user, action=f"view:workplace.{action}", allowed=False)


def _sample(request: AuthenticatedRequest, pk: int) -> ModerationSample:
    try:
        return sample_for(request.user, pk)
    except ModerationSample.DoesNotExist:
        _refused(request, "sample")
        raise  # not reached: the refusal raises


@permission_required(MANAGE_DELIVERY, MODERATE)
def moderation(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    if not user.may(MANAGE_DELIVERY):
        return render(
            request,
            "workplace/moderation/my_samples.html",
            {"page": list_page(request, samples_for(user, own_only=True))},
        )
    pairs = list_page(request, awaiting_moderation(user))
    rows = moderators_for(list(pairs.object_list))
    samples = Paginator(samples_for(user), PAGE_SIZE).get_page(request.GET.get(SAMPLES_PAGE))
    return render(
        request,
        "workplace/moderation/index.html",
        {
            "pairs": pairs,
            "rows": rows,
            "samples": samples,
            "samples_param": SAMPLES_PAGE,
            "policy": moderation_policy_current(),
            "may_set_policy": user.may(ALL_COHORTS),
        },
    )


@permission_required(MANAGE_DELIVERY)
@never_cache
def moderation_policy(request: AuthenticatedRequest) -> HttpResponse:
    permission_check(
        actor=request.user, action="view:workplace.moderation_policy", permission=ALL_COHORTS
    )
    policy = moderation_policy_current()
    form = ModerationPolicyForm(
        request.POST if request.method == "POST" else None,
        initial={"share_percent": policy.share_percent, "minimum": policy.minimum},
    )
    if request.method == "POST" and form.is_valid():
        try:
            policy = moderation_policy_set(actor=request.user, **form.cleaned_data)
        except ValidationError as refusal:
            for name, errors in refusal.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(
                request,
                f"Samples are now {policy.share_percent}% of an assessor's decisions, at least "
                f"{policy.minimum}.",
            )
            return redirect("workplace:moderation")
    return render(
        request,
        "workplace/moderation/policy.html",
        {"form": form, "policy": policy, "cancel_url": reverse("workplace:moderation")},
        status=400 if form.is_bound and form.errors else 200,
    )


@permission_required(MANAGE_DELIVERY)
@require_POST
def sample_draw_view(request: AuthenticatedRequest) -> HttpResponse:
    form = SampleDrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("workplace:moderation")
    try:
        sample = sample_draw(actor=request.user, **form.cleaned_data)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
        return redirect("workplace:moderation")
    sampled, covered = sample.items.filter(in_sample=True).count(), sample.items.count()
    messages.success(
        request,
        f"{sample.moderator} is given {sampled} of {covered} "
        f"decision{pluralize(covered)} to check, and told by e-mail.",
    )
    return redirect(sample)


def _sample_page(
    request: AuthenticatedRequest,
    sample: ModerationSample,
    *,
    bound: VerdictForm | None = None,
    status: int = 200,
) -> HttpResponse:
    items = sample_items(sample)
    is_moderator = sample.moderator_id == request.user.pk and request.user.may(MODERATE)
    may_moderate = is_moderator and sample.status == SampleStatus.OPEN
    sampled = []
    for item in items:
        if not item.in_sample:
            continue
        form = None
        if may_moderate:
            form = bound if bound is not None and bound.item.pk == item.pk else None
            form = form or VerdictForm(item=item)
        sampled.append((item, form))
    pending = sum(1 for item, _ in sampled if item.verdict == Verdict.PENDING)
    return render(
        request,
        "workplace/moderation/sample.html",
        {
            "sample": sample,
            "sampled": sampled,
            "covered": [item for item in items if not item.in_sample],
            "pending": pending,
            "may_moderate": may_moderate,
        },
        status=status,
    )


@permission_required(MANAGE_DELIVERY, MODERATE)
@never_cache
def sample(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _sample_page(request, _sample(request, pk))


@permission_required(MODERATE)
@require_POST
def sample_item(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = (
        ModerationItem.objects.select_related("submission", "sample")
        .filter(pk=pk, in_sample=True, sample__moderator=request.user)
        .first()
    )
    if item is None:
        _refused(request, "sample_item")
        raise AssertionError  # not reached: the refusal raises
    sample = _sample(request, item.sample_id)
    form = VerdictForm(request.POST, item=item)
    if form.is_valid():
        verdict = form.cleaned_data["verdict"]
        try:
            sample_verdict_record(
                actor=request.user,
                item=item,
                verdict=verdict,
                moderated_decision=other_decision(item.submission.decision)
                if verdict == Verdict.CHANGED
                else "",
                reasons=form.cleaned_data["reasons"],
            )
        except ValidationError as refusal:
            if hasattr(refusal, "error_dict"):
                for name, errors in refusal.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, refusal)
        else:
            messages.success(
                request,
                "Your agreement is recorded."
                if verdict == Verdict.AGREED
                else "The change is recorded; it applies when you complete the sample.",
            )
            return redirect(f"{sample.get_absolute_url()}#item-{item.pk}")
    return _sample_page(request, sample, bound=form, status=400)


@permission_required(MODERATE)
@never_cache
def sample_complete_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Complete the sample after a confirmation: the covered results become final."""
    sample = _sample(request, pk)
    if sample.moderator_id != request.user.pk:
        _refused(request, "sample_complete")
    if request.method == "POST":
        try:
            sample_complete(actor=request.user, sample=sample)
        except ValidationError as refusal:
            messages.error(request, " ".join(refusal.messages))
        else:
            messages.success(request, "The sample is completed: the results it covers are final.")
        return redirect(sample)
    items = sample_items(sample)
    return render(
        request,
        "workplace/moderation/complete.html",
        {
            "sample": sample,
            "covered": len(items),
            "changed": sum(1 for item in items if item.verdict == Verdict.CHANGED),
            "pending": sum(
                1 for item in items if item.in_sample and item.verdict == Verdict.PENDING
            ),
        },
    )
