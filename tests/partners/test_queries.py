"""The partners' lists read a fixed number of queries: the list of agents and brokers whatever
their number, a partner's page whatever the number of learners it brought, and the portal's
list of candidates whatever theirs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import SystemRole
from partners.models import PartnerContact, PartnerKind
from tests.factories import UserFactory
from tests.finance.support import finance_world, partner_make

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def test_the_partner_list_reads_the_same_queries_for_3_and_25_partners(admin, client_of):
    world = finance_world(admin, learners=2)
    client = client_of(world.finance)
    url = reverse("partners:list")
    counts = []
    for added in (1, 22):  # 3 partners, then 25
        for n in range(added):
            partner_make(PartnerKind.AGENT, f"AG-{added}-{n:03}", is_active=n % 2 == 0)
        queries(client, url)
        counts.append(queries(client, url))
    assert counts[0] == counts[1]


def test_a_partners_page_and_the_portal_read_the_same_queries_for_2_and_20_candidates(
    admin, client_of
):
    world = finance_world(admin, learners=2)
    contact = UserFactory(roles=[SystemRole.AGENT])
    PartnerContact.objects.create(partner=world.agent, user=contact)
    staff, portal = client_of(world.finance), client_of(contact)
    detail = reverse("partners:detail", args=[world.agent.pk])
    counts = []
    for extra in (0, 18):
        world.learners_add(extra)
        queries(staff, detail)
        counts.append((queries(staff, detail), queries(portal, reverse("partners:portal"))))
    assert counts[0] == counts[1]
