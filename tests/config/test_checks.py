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


@pytest.mark.parametrize(
    "keys",
    [["not base64!"], ["c2hvcnQ="], [PRODUCTION_ENV["LEARNER_MASTER_KEYS"], "dG9vIHNob3J0"]],
)
def test_a_malformed_master_key_is_an_error_for_every_command(settings, keys):
    settings.LEARNER_MASTER_KEYS = keys
    errors = [message for message in run_checks() if message.id == "cohortly.E002"]
    assert len(errors) == 1
    assert f"key {len(keys)} is not 32 bytes encoded in base64" in errors[0].msg
    assert keys[-1] not in errors[0].msg


def test_production_refuses_to_start_with_an_empty_master_key_list():
    result = manage("migrate_platform", env={**PRODUCTION_ENV, "LEARNER_MASTER_KEYS": ""})
    assert result.returncode != 0
    assert "cohortly.E002" in result.stderr
    assert "LEARNER_MASTER_KEYS is empty" in result.stderr


def test_production_refuses_to_start_with_a_malformed_master_key():
    result = manage("check", env={**PRODUCTION_ENV, "LEARNER_MASTER_KEYS": "c2hvcnQ="})
    assert result.returncode != 0
    assert "LEARNER_MASTER_KEYS: key 1 is not 32 bytes" in result.stderr


def test_a_time_stamp_authority_without_trust_roots_is_an_error(settings):
    settings.SIGNING_TIMESTAMP_URL = "https://tsa.example.org/"
    settings.SIGNING_TIMESTAMP_TRUST_ROOTS = ""
    assert "cohortly.E003" in [message.id for message in run_checks()]


def test_a_time_stamp_authority_with_trust_roots_or_none_at_all_passes(settings):
    settings.SIGNING_TIMESTAMP_URL = "https://tsa.example.org/"
    settings.SIGNING_TIMESTAMP_TRUST_ROOTS = "/etc/cohortly/tsa-roots.pem"
    assert "cohortly.E003" not in [message.id for message in run_checks()]
    settings.SIGNING_TIMESTAMP_URL = ""
    settings.SIGNING_TIMESTAMP_TRUST_ROOTS = ""
    assert "cohortly.E003" not in [message.id for message in run_checks()]
