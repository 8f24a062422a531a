"""`check --deploy` warns when uploads would not be scanned for viruses."""

import pytest
from django.core.checks import run_checks

from tests.config.test_settings import PRODUCTION_ENV, manage


def _deploy_check_ids() -> list[str]:
    return [message.id for message in run_checks(include_deployment_checks=True)]


def test_no_virus_scanner_is_a_deployment_warning(settings):
    settings.CLAMAV_ADDRESS = ""
    assert "cohortly.W001" in _deploy_check_ids()


@pytest.mark.parametrize("address", ["clamav:3310", "tcp://10.0.0.5:3310"])
def test_a_configured_virus_scanner_silences_it(settings, address):
    settings.CLAMAV_ADDRESS = address
    ids = _deploy_check_ids()
    assert "cohortly.W001" not in ids
    assert "cohortly.E001" not in ids


def test_a_malformed_scanner_address_is_an_error(settings):
    settings.CLAMAV_ADDRESS = "tcp://:3310"
    assert "cohortly.E001" in _deploy_check_ids()


def test_the_warning_is_for_deployments_only(settings):
    settings.CLAMAV_ADDRESS = ""
    assert "cohortly.W001" not in [message.id for message in run_checks()]


def test_production_without_a_scanner_fails_the_deployment_checklist():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "CLAMAV_ADDRESS"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "cohortly.W001" in result.stderr
