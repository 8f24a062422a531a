"""Delivery's gateway fixtures: the fake training gateway on loopback, and the alpha
institution reporting to it (as tests/integrations sets them up)."""

import pytest

from integrations.connectors.training_gateway import TrainingGatewayConnector
from integrations.testing import FakeGateway
from tests.integrations.conftest import configure


@pytest.fixture
def gateway():
    with FakeGateway() as running:
        yield running


@pytest.fixture
def connected(institution, gateway) -> FakeGateway:
    """alpha reports to the fake gateway (inside the test's transaction)."""
    configure(gateway)
    return gateway


@pytest.fixture
def fast_retries(monkeypatch):
    """Retries due after at most 10 ms, so that tests need not wait for them."""
    monkeypatch.setattr(TrainingGatewayConnector, "retry_base_seconds", 0.001)
    monkeypatch.setattr(TrainingGatewayConnector, "retry_cap_seconds", 0.01)
