"""Agents and brokers, for who reads partners (finance changes them; admins read them): the list
with its filters, adding and editing one, deactivating and reactivating it, its page (terms,
commission rule, bank details masked, the learners it brought, its contacts), adding its
candidates, who brought a learner, and its contacts. Every write goes through
partners.services; anyone else gets the audited 404."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check, permission_required
from learners.models import Learner
from partners.access import MANAGE_PARTNERS, SET_INTRODUCTION, VIEW_PARTNERS
from partners.forms.partners import (
    CandidateSearchForm,
    ContactInviteForm,
    IntroductionForm,
    PartnerFilterForm,
    PartnerForm,
)
from partners.models import BankChangeStatus, Partner, PartnerContact, PartnerKind
from partners.selectors.partners import (
    introduction_of,
    learners_to_introduce,
    partner_bank_account,
    partner_bank_changes,
    partner_candidates,
    partner_list,
    partner_page,
)
from partners.services.contacts import contact_role, partner_contact_invite, partner_contact_remove
from partners.services.introductions import learner_introduction_set
from partners.services.partners import partner_active_set, partner_create, partner_update

CANDIDATES_PER_PAGE = 20


def partner_or_404(pk: int) -> Partner:
    try:
        return partner_page(pk=pk)
    except Partner.DoesNotExist as missing:
        raise Http404 from missing


@permission_required(VIEW_PARTNERS)
def partner_list_view(request: AuthenticatedRequest) -> HttpResponse:
    filters = PartnerFilterForm(request.GET or None)
    return render(
        request,
        "partners/list.html",
        {
            "filters": filters,
            "page": list_page(request, partner_list(**filters.selector_filters())),
            "may_manage": request.user.may(MANAGE_PARTNERS),
        },
    )


def _partner_form_page(
    request: AuthenticatedRequest,
    form: PartnerForm,
    partner: Partner | None,
    save: Callable[[], Partner],
    saved: str,
) -> HttpResponse:
    """Adding or editing: on a valid POST, `save` (the service) and the partner's page with
    `saved` (formatted with the partner); a refusal goes back beside its field."""
    if request.method == "POST" and form.is_valid():
        try:
            partner = save()
        except ValidationError as error:
            form.refusal_show(error)
        else:
            messages.success(request, saved.format(partner=partner))
            return redirect(partner)
    return render(
        request,
        "partners/form.html",
        {"form": form, "partner": partner},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_PARTNERS)
@never_cache
def partner_add_view(request: AuthenticatedRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    form = PartnerForm(
        request.POST if request.method == "POST" else None,
        initial={"kind": kind} if kind in PartnerKind.values else None,
    )
    return _partner_form_page(
        request,
        form,
        None,
        lambda: partner_create(actor=request.user, **form.service_arguments()),
        "{partner.name} is added.",
    )


@permission_required(MANAGE_PARTNERS)
@never_cache
def partner_edit_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    partner = partner_or_404(pk)
    form = PartnerForm(request.POST if request.method == "POST" else None, partner=partner)
    return _partner_form_page(
        request,
        form,
        partner,
        lambda: partner_update(actor=request.user, partner=partner, **form.service_arguments()),
        "{partner.name}'s details are saved.",
    )


@permission_required(MANAGE_PARTNERS)
@never_cache
def partner_active_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The confirmation page for deactivating (or reactivating) a partner, and its answer."""
    partner = partner_or_404(pk)
    refused = ""
    if request.method == "POST":
        try:
            partner = partner_active_set(
                actor=request.user, partner=partner, active=not partner.is_active
            )
        except ValidationError as error:
            refused = " ".join(error.messages)
        else:
            state = "active again" if partner.is_active else "deactivated"
            messages.success(request, f"{partner.name} is {state}.")
            return redirect(partner)
    return render(
        request,
        "partners/active_confirm.html",
        {"partner": partner, "refused": refused},
        status=400 if refused else 200,
    )


@permission_required(VIEW_PARTNERS)
def partner_detail_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    partner = partner_or_404(pk)
    changes = partner_bank_changes(partner)
    return render(
        request,
        "partners/detail.html",
        {
            "partner": partner,
            "account": partner_bank_account(partner),
            "pending": next((c for c in changes if c.status == BankChangeStatus.PENDING), None),
            "changes": changes,
            "candidates": list_page(
                request, partner_candidates(partner), per_page=CANDIDATES_PER_PAGE
            ),
            "contacts": partner.contacts.all(),
            "contact_role": contact_role(partner),
            "may_manage": request.user.may(MANAGE_PARTNERS),
            "may_introduce": request.user.may(*SET_INTRODUCTION),
            "search": CandidateSearchForm(),
        },
    )


@permission_required(*SET_INTRODUCTION)
def candidate_search_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Find a learner to add as the partner's candidate: each result leads to their
    introduction page with the partner chosen."""
    partner = partner_or_404(pk)
    form = CandidateSearchForm(request.GET or None)
    learners = learners_to_introduce(search=form.cleaned_data["q"] if form.is_valid() else "")
    return render(
        request,
        "partners/candidate_search.html",
        {"partner": partner, "form": form, "page": list_page(request, learners)},
    )


@permission_required(VIEW_PARTNERS, *SET_INTRODUCTION)
@never_cache
def introduction_view(request: AuthenticatedRequest, learner_pk: int) -> HttpResponse:
    """Who brought a learner: read by who reads partners, set by finance only (it decides
    commissions). From a partner's page, `?agent=<pk>` or `?broker=<pk>` preselects it
    and `?partner=<pk>` leads back there once saved."""
    try:
        learner = Learner.objects.get(pk=learner_pk)
    except Learner.DoesNotExist as missing:
        raise Http404 from missing
    introduction = introduction_of(learner)
    agent = introduction.agent if introduction else None
    broker = introduction.broker if introduction else None
    initial: dict[str, object] = {"agent": agent, "broker": broker}
    for name in ("agent", "broker"):
        if request.GET.get(name, "").isdigit():
            initial[name] = int(request.GET[name])
    may_set = request.user.may(*SET_INTRODUCTION)
    # The partner page the person came from, to go back to once saved.
    came_from = request.POST.get("partner", request.GET.get("partner", ""))
    back_to = int(came_from) if came_from.isdigit() else None
    form = IntroductionForm(
        request.POST if request.method == "POST" and may_set else None,
        initial=initial,
        agent=agent,
        broker=broker,
    )
    if request.method == "POST":
        permission_check(
            actor=request.user,
            permission=SET_INTRODUCTION,
            action="learner_introduction.set",
        )
        if form.is_valid():
            try:
                learner_introduction_set(actor=request.user, learner=learner, **form.cleaned_data)
            except ValidationError as error:
                form.refusal_show(error)
            else:
                messages.success(request, f"Saved who brought {learner.full_name}.")
                if back_to:
                    return redirect("partners:detail", pk=back_to)
                return redirect("partners:introduction", learner_pk=learner.pk)
    return render(
        request,
        "partners/introduction.html",
        {
            "learner": learner,
            "introduction": introduction,
            "form": form,
            "may_set": may_set,
            "back_to": back_to,
        },
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_PARTNERS)
@never_cache
def contact_invite_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    partner = partner_or_404(pk)
    form = ContactInviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = partner_contact_invite(
                actor=request.user, partner=partner, **form.cleaned_data
            )
        except ValidationError as error:
            form.refusal_show(error)
        else:
            who = contact.user.full_name or contact.user.email
            messages.success(request, f"{who} now speaks for {partner.name}.")
            return redirect(partner)
    return render(
        request,
        "partners/contact_invite.html",
        {"partner": partner, "form": form, "role": contact_role(partner)},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_PARTNERS)
@never_cache
def contact_remove_view(request: AuthenticatedRequest, pk: int, contact_pk: int) -> HttpResponse:
    partner = partner_or_404(pk)
    try:
        contact = PartnerContact.objects.select_related("user").get(pk=contact_pk, partner=partner)
    except PartnerContact.DoesNotExist as missing:
        raise Http404 from missing
    if request.method == "POST":
        partner_contact_remove(actor=request.user, contact=contact)
        who = contact.user.full_name or contact.user.email
        messages.success(request, f"{who} no longer speaks for {partner.name}.")
        return redirect(f"{reverse('partners:detail', args=[partner.pk])}#contacts-heading")
    return render(request, "partners/contact_remove.html", {"partner": partner, "contact": contact})
