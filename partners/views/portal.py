"""The partner portal, for a partner's contact (the Agent or Broker role): the learners their
partner brought and each one's progress, name and e-mail address only. Anyone who speaks for no
partner, and any learner their partner did not bring, gets the audited 404."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check
from learners.models import Learner
from partners.access import partner_of_contact
from partners.models import Partner
from partners.selectors.portal import portal_candidate, portal_candidates


def _contacts_partner(request: AuthenticatedRequest, action: str) -> Partner:
    partner = partner_of_contact(request.user)
    permission_check(actor=request.user, allowed=partner is not None, action=action)
    assert partner is not None  # noqa: S101 (refused above; for mypy)
    return partner


@login_required
def portal_view(request: AuthenticatedRequest) -> HttpResponse:
    partner = _contacts_partner(request, "view:partners.portal")
    return render(
        request,
        "partners/portal.html",
        {"partner": partner, "page": list_page(request, portal_candidates(partner))},
    )


@login_required
def portal_candidate_view(request: AuthenticatedRequest, learner_pk: int) -> HttpResponse:
    partner = _contacts_partner(request, "view:partners.portal_candidate")
    try:
        learner = portal_candidate(partner, learner_pk=learner_pk)
    except Learner.DoesNotExist:
        # Another partner's learner (or none): the probe is audited like any refusal.
        permission_check(actor=request.user, allowed=False, action="view:partners.portal_candidate")
        raise
    return render(
        request, "partners/portal_candidate.html", {"partner": partner, "learner": learner}
    )
