"""The grant pages: finance sees and acts, an admin sees the same pages read-only, anyone else
(and any other institution's id) gets the 404; the agreement page reads a fixed number of
queries whatever the number of claims; actions are confirmed on a page of their own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from finance.models import GrantAgreement, GrantClaim, GrantClaimStatus
from finance.services.grants import grant_claims_bring_up_to_date
from tenants.models import Institution
from tests.factories import UserFactory
from tests.finance.grants_support import (
    MIDPOINT,
    agreement_make,
    grants_world,
    registration_evidence,
    started_days_ago,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return grants_world(admin)


def test_the_list_says_what_to_do_when_empty_and_lists_agreements(world, client_of):
    finance = client_of(world.finance)
    page = finance.get(reverse("finance:grants")).content.decode()
    assert "No grant agreements yet" in page
    assert "Add an agreement" in page
    agreement = agreement_make(world)
    page = finance.get(reverse("finance:grants")).content.decode()
    assert "MICT SETA MICT-DG-2027-014" in page
    assert f'data-agreement="{agreement.pk}"' in page
    searched = finance.get(reverse("finance:grants") + "?q=nothing").content.decode()
    assert "No agreement matches this search." in searched


def test_finance_adds_an_agreement_and_a_taken_reference_is_refused_beside_it(world, client_of):
    finance = client_of(world.finance)
    assert finance.get(reverse("finance:grant_create")).status_code == 200
    fields = {
        "cohort": world.workplace.run.cohort.pk,
        "seta": "MICT SETA",
        "reference": "MICT-DG-2027-014",
        "registration_amount": "5000",
        "midpoint_amount": "7500",
        "completion_amount": "12500",
        "currency": "ZAR",
    }
    response = finance.post(reverse("finance:grant_create"), fields)
    agreement = GrantAgreement.objects.get()
    assert response.url == reverse("finance:grant", args=[agreement.pk])
    again = finance.post(reverse("finance:grant_create"), fields)
    assert again.status_code == 400
    assert "MICT SETA already has an agreement MICT-DG-2027-014" in again.content.decode()
    edited = finance.post(
        reverse("finance:grant_edit", args=[agreement.pk]), {**fields, "midpoint_amount": "8000"}
    )
    assert edited.status_code == 302
    agreement.refresh_from_db()
    assert str(agreement.midpoint_amount) == "8000.00"


def test_the_agreement_page_shows_claims_totals_evidence_and_flags(world, client_of):
    registration_evidence(world.placed[0])
    started_days_ago(world, 60, ends_in=50)  # the mid-point was five days ago
    agreement = agreement_make(world)
    finance = client_of(world.finance)
    url = reverse("finance:grant", args=[agreement.pk])
    empty = finance.get(url).content.decode()
    assert "No claims yet" in empty
    response = finance.post(reverse("finance:grant_claims_refresh", args=[agreement.pk]))
    assert response.status_code == 302
    page = finance.get(url).content.decode()
    assert "When is a tranche due" in page
    assert "No signed agreement yet" in page  # the second learner's
    assert "No attendance recorded yet" in page
    assert "Signed agreement" in page
    assert page.count("data-claim=") == 4
    assert "Submit due claims" in page
    filtered = finance.get(url + "?milestone=midpoint&status=due").content.decode()
    assert filtered.count("data-claim=") == 2
    # The admin reads it, without the buttons, and with links to the evidence pages.
    admin_page = client_of(world.admin).get(url).content.decode()
    assert "Submit due claims" not in admin_page
    assert "Bring claims up to date" not in admin_page
    assert 'href="/review/documents/' in admin_page


def test_a_submission_is_confirmed_then_done(world, client_of):
    for placed in world.placed:
        registration_evidence(placed)
    agreement = agreement_make(world)
    grant_claims_bring_up_to_date(agreement=agreement, today=MIDPOINT)
    chosen = list(agreement.claims.filter(milestone="registration").values_list("pk", flat=True))
    finance = client_of(world.finance)
    url = reverse("finance:grant_claims_action", args=[agreement.pk])
    confirm = finance.get(url, {"action": "submit", "claim": chosen})
    assert confirm.status_code == 200
    assert "Submit claims to the SETA" in confirm.content.decode()
    assert GrantClaim.objects.filter(status=GrantClaimStatus.SUBMITTED).count() == 0
    done = finance.post(url, {"action": "submit", "claim": chosen, "submitted_on": "2026-11-10"})
    assert done.status_code == 302
    assert GrantClaim.objects.filter(status=GrantClaimStatus.SUBMITTED).count() == 2
    # Midpoint claims lack attendance: refused on the confirmation page, nothing done.
    midpoint = list(agreement.claims.filter(milestone="midpoint").values_list("pk", flat=True))
    refused = finance.post(
        url, {"action": "submit", "claim": midpoint, "submitted_on": "2026-11-10"}
    )
    assert refused.status_code == 400
    assert "No attendance recorded yet" in refused.content.decode()
    nothing = finance.get(url, {"action": "submit"})
    assert nothing.status_code == 302


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.TRAINER, SystemRole.VERIFIER])
def test_anyone_else_gets_404(world, client_of, role):
    agreement = agreement_make(world)
    client = client_of(UserFactory(roles=[role]))
    for name, args in [
        ("finance:grants", []),
        ("finance:grant_create", []),
        ("finance:grant", [agreement.pk]),
        ("finance:grant_edit", [agreement.pk]),
        ("finance:grant_claims_action", [agreement.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    assert (
        client.post(reverse("finance:grant_claims_refresh", args=[agreement.pk])).status_code == 404
    )


def test_an_admin_may_not_change_anything(world, client_of):
    agreement = agreement_make(world)
    admin = client_of(world.admin)
    assert admin.get(reverse("finance:grant_create")).status_code == 404
    assert admin.get(reverse("finance:grant_edit", args=[agreement.pk])).status_code == 404
    assert (
        admin.post(reverse("finance:grant_claims_refresh", args=[agreement.pk])).status_code == 404
    )
    assert not agreement.claims.exists()


def test_another_institutions_agreement_is_not_there(world, client_of, other_institution):
    with tenant_context(other_institution):
        theirs = agreement_make(grants_world(UserFactory(roles=[SystemRole.ADMIN]), learners=1))
    connection.set_tenant(world_institution(world))
    assert not GrantAgreement.objects.exists()
    finance = client_of(world.finance)
    for name in ("finance:grant", "finance:grant_edit", "finance:grant_claims_action"):
        assert finance.get(reverse(name, args=[theirs.pk])).status_code == 404, name
    assert (
        finance.post(reverse("finance:grant_claims_refresh", args=[theirs.pk])).status_code == 404
    )


def world_institution(world):
    return Institution.objects.get(code="alpha")


def queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_pages_read_the_same_queries_for_few_and_many_claims(
    world, client_of, django_assert_num_queries
):
    client = client_of(world.admin)
    agreement = agreement_make(world)
    urls = [reverse("finance:grant", args=[agreement.pk]), reverse("finance:grants")]

    def more(learners: int) -> None:
        for placed in world.learners_add(learners)[::2]:
            registration_evidence(placed)
        grant_claims_bring_up_to_date(agreement=agreement, today=MIDPOINT)
        agreement_make(world, reference=f"REF-{learners}")

    more(2)
    expected = [queries(client, url) for url in urls]
    more(9)
    assert agreement.claims.count() == 2 * 13
    for url, count in zip(urls, expected, strict=True):
        client.get(url)
        with django_assert_num_queries(count):
            assert client.get(url).status_code == 200
