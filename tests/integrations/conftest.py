"""Sync fixtures: a fake training gateway on loopback (integrations.testing), and the alpha
institution configured to report to it."""

import contextlib

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_invite
from integrations.connectors.training_gateway import TrainingGatewayConnector
from integrations.models import ConnectorConfig, SyncJob
from integrations.services import SETTINGS_FLAG, connector_config_save
from integrations.testing import FakeGateway
from learners.models import ConsentKind
from tenants.models import Institution
from tests.learners.support import consents_give

MAX_ATTEMPTS = 4


@pytest.fixture
def gateway():
    with FakeGateway() as running:
        yield running


@pytest.fixture
def fast_retries(monkeypatch):
    """Retries due after at most 10 ms, so that tests need not wait for them."""
    monkeypatch.setattr(TrainingGatewayConnector, "retry_base_seconds", 0.001)
    monkeypatch.setattr(TrainingGatewayConnector, "retry_cap_seconds", 0.01)


def configure(gateway: FakeGateway, **overrides):
    return connector_config_save(
        actor=None,
        connector="training_gateway",
        base_url=gateway.url,
        credentials=gateway.credentials,
        max_attempts=overrides.get("max_attempts", MAX_ATTEMPTS),
        timeout_seconds=overrides.get("timeout_seconds", 0.5),
    )


@pytest.fixture
def connected(institution, gateway):
    """alpha reports to the fake gateway (inside the test's transaction)."""
    configure(gateway)
    return gateway


@contextlib.contextmanager
def committed_connector(gateway: FakeGateway, code: str = "alpha", **overrides):
    """A committed connector configuration (for worker and thread tests), removed afterwards
    with every job, so that later tests see an institution that reports nowhere."""
    institution = Institution.objects.get(code=code)
    with tenant_context(institution):
        configure(gateway, **overrides)
    try:
        yield institution
    finally:
        connection.set_schema_to_public()
        with tenant_context(institution):
            ConnectorConfig.objects.all().delete()
            SyncJob.objects.all().delete()
        institution.refresh_from_db()
        institution.settings.pop(SETTINGS_FLAG, None)
        Institution.objects.filter(pk=institution.pk).update(settings=institution.settings)


def invite_consenting(**invitation) -> CohortEnrollment:
    """Invite a student (enrollment_invite's arguments) who then consents to sharing with the
    funding body: their enrolment's gateway job is queued."""
    enrollment = enrollment_invite(**invitation)
    consents_give(enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    return enrollment
