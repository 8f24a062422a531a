"""The reconciliation pages: who may open them, what they show of each outcome, an unreachable
gateway, and re-sending one record or (after confirming) every difference."""

# ruff: noqa: F811 (the gateway fixtures of tests.integrations.conftest are imported by name)

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from delivery import gateway as delivery_gateway
from integrations.models import SyncJob, SyncJobStatus
from tests.delivery.reconciliation_support import delivery_make, delivery_send
from tests.factories import UserFactory
from tests.integrations.conftest import connected, gateway  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(connected):
    delivered = delivery_make()
    delivery_send(delivered)
    return delivered


@pytest.fixture
def ops_client(client_of):
    return client_of(UserFactory(roles=[SystemRole.OPS_ADMIN], full_name="Olu Ops"))


def page_url(delivered) -> str:
    return reverse("delivery:reconciliation", args=[delivered.run.cohort.pk])


def resend_url(delivered) -> str:
    return reverse("delivery:reconciliation_resend", args=[delivered.run.cohort.pk])


def test_an_ops_admin_sees_a_difference_field_by_field(sent, connected, ops_client):
    connected.alter("run", delivery_gateway.run_reference(sent.run.pk), venue="Hall B")

    response = ops_client.get(page_url(sent))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-outcome="different"' in page
    assert '<code>venue</code></td><td data-label="Cohortly">Room 1</td>' in page
    assert '<td data-label="Gateway">Hall B</td>' in page
    assert "Re-send all 1 difference" in page


def test_everything_matched_says_so_and_lists_the_records_on_asking(sent, ops_client):
    response = ops_client.get(page_url(sent))
    everything = ops_client.get(page_url(sent), {"outcome": "all"})

    assert "matches what Cohortly holds" in response.content.decode()
    assert everything.content.decode().count('data-outcome="matched"') == 7


def test_the_run_is_linked_only_for_who_may_open_its_page(sent, ops_client, admin_client):
    run_url = reverse("delivery:run", args=[sent.run.pk])
    title = f"{sent.run.course_ref} {sent.run.title}"

    for_ops = ops_client.get(page_url(sent)).content.decode()
    for_admin = admin_client.get(page_url(sent)).content.decode()

    assert ops_client.get(run_url).status_code == 404
    assert run_url not in for_ops
    assert title in for_ops
    assert f'<a href="{run_url}">{title}</a>' in for_admin


def test_the_cohort_list_leads_to_the_cohorts_with_runs(sent, ops_client):
    response = ops_client.get(reverse("delivery:reconciliation_cohorts"))

    assert page_url(sent) in response.content.decode()


def test_an_unreachable_gateway_is_said_so(sent, connected, ops_client):
    connected.will("error_500")

    page = ops_client.get(page_url(sent)).content.decode()

    assert "The gateway could not be read for 1 run" in page
    assert "The gateway could not be read for this run: Gateway 500" in page


def test_without_a_connector_the_page_says_there_is_nothing_to_compare(institution, ops_client):
    delivered = delivery_make(learners=1)

    page = ops_client.get(page_url(delivered)).content.decode()

    assert "No gateway connector is active" in page


def test_re_sending_one_record_queues_it_and_says_so(sent, connected, ops_client):
    connected.alter("run", delivery_gateway.run_reference(sent.run.pk), venue="Hall B")

    response = ops_client.post(
        resend_url(sent),
        {"entity_type": "delivery.courserun", "entity_id": str(sent.run.pk)},
        follow=True,
    )

    assert "1 record queued to be sent again: " in response.content.decode()
    queued = SyncJob.objects.filter(status=SyncJobStatus.QUEUED, entity_type="delivery.courserun")
    assert queued.count() == 1
    assert "A job for it is queued" in response.content.decode()


def test_re_sending_all_asks_first_then_queues_every_difference(sent, connected, ops_client):
    connected.alter("run", delivery_gateway.run_reference(sent.run.pk), venue="Hall B")
    reference = delivery_gateway.attendance_reference(sent.attendance[0].pk)
    connected.alter("attendance", reference, status="absent")

    confirm = ops_client.get(resend_url(sent))
    assert not SyncJob.objects.filter(status=SyncJobStatus.QUEUED).exists()
    assert "Re-send 2 records" in confirm.content.decode()

    response = ops_client.post(resend_url(sent), follow=True)

    assert "2 records queued to be sent again" in response.content.decode()
    assert SyncJob.objects.filter(status=SyncJobStatus.QUEUED).count() == 2


@pytest.mark.parametrize("role", [SystemRole.TRAINER, SystemRole.FINANCE])
def test_people_who_do_not_manage_the_sync_get_404(sent, client_of, role):
    client = client_of(UserFactory(roles=[role]))

    assert client.get(page_url(sent)).status_code == 404
    assert client.post(resend_url(sent)).status_code == 404
    assert client.get(reverse("delivery:reconciliation_cohorts")).status_code == 404


def test_another_institutions_ops_admin_gets_404_for_its_cohort(
    sent, other_institution, client_for
):
    client = client_for(other_institution)
    with tenant_context(other_institution):
        client.force_login(UserFactory(roles=[SystemRole.OPS_ADMIN]))

    assert client.get(page_url(sent)).status_code == 404
    assert client.post(resend_url(sent)).status_code == 404
