"""The reconciliation pages: who may open them, what they show of each outcome, an unreachable
gateway, and re-sending one record or (after confirming) every difference."""

# ruff: noqa: F811 (the gateway fixtures of tests.integrations.conftest are imported by name)

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from delivery import gateway as delivery_gateway
from delivery.views.reconciliation import RUNS_PER_PAGE
from integrations.connectors.training_gateway import TrainingGatewayConnector
from integrations.models import SyncJob, SyncJobStatus
from integrations.services import sync_enqueue_many
from tests.delivery.reconciliation_support import delivery_make, delivery_send, jobs_send_all
from tests.factories import CourseRunFactory, UserFactory
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


@pytest.fixture
def connectors(monkeypatch):
    """Every gateway connector the views make, and the runs each read from the gateway."""
    made: list[TrainingGatewayConnector] = []
    retrieved: list[str] = []
    init, retrieve = TrainingGatewayConnector.__init__, TrainingGatewayConnector.retrieve

    def remembered(self, **kwargs):
        init(self, **kwargs)
        made.append(self)

    def noted(self, reference):
        retrieved.append(reference)
        return retrieve(self, reference)

    monkeypatch.setattr(TrainingGatewayConnector, "__init__", remembered)
    monkeypatch.setattr(TrainingGatewayConnector, "retrieve", noted)
    return made, retrieved


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
    assert "Re-send the difference…" in page


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


def test_the_page_reads_the_same_number_of_queries_for_2_or_6_learners(connected, ops_client):
    small = delivery_make(learners=2)
    delivery_send(small)  # before the next learners consent: their records wait for their run
    large = delivery_make(learners=6)
    delivery_send(large)
    ops_client.get(page_url(small))  # the session and the user's permissions, once

    counted = []
    for delivered in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = ops_client.get(page_url(delivered), {"outcome": "all"})
        assert response.content.decode().count('data-outcome="matched"') == 1 + 3 * len(
            delivered.enrolments
        )
        counted.append(len(queries))

    assert counted[0] == counted[1]


def test_runs_are_shown_and_read_from_the_gateway_a_page_at_a_time(
    sent, connected, ops_client, connectors
):
    cohort = sent.run.cohort
    more = [CourseRunFactory(cohort=cohort, start_date=cohort.end_date) for _ in range(5)]
    sync_enqueue_many(more)
    jobs_send_all()
    made, retrieved = connectors

    first = ops_client.get(page_url(sent)).content.decode()
    second = ops_client.get(page_url(sent), {"page": 2}).content.decode()

    assert len(retrieved) == RUNS_PER_PAGE + 1  # each run read once
    assert first.count('class="card mb-3"') == RUNS_PER_PAGE
    assert second.count('class="card mb-3"') == 1
    assert f"Runs 1–{RUNS_PER_PAGE} of 6" in first
    assert "Re-send the differences of all 6 runs" in first
    assert made
    assert all(connector._client is None for connector in made)  # closed


def test_every_view_closes_its_gateway_connection(sent, connected, ops_client, connectors):
    connected.alter("run", delivery_gateway.run_reference(sent.run.pk), venue="Hall B")

    ops_client.get(reverse("delivery:reconciliation_cohorts"))
    ops_client.get(page_url(sent))
    ops_client.get(resend_url(sent))
    ops_client.post(resend_url(sent))
    made, retrieved = connectors

    assert len(retrieved) == 3  # the page, the confirmation and the re-send read the gateway
    assert all(connector._client is None for connector in made)
