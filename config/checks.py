"""System checks for a deployment (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from enrolments.scanning import clamav_address
from learners.keys import master_keys


@checks.register(checks.Tags.security, deploy=True)
def virus_scanner_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Without a scanner, students' uploads reach reviewers unscanned (enrolments.scanning)."""
    try:
        address = clamav_address()
    except ValueError as error:
        return [checks.Error(str(error), id="cohortly.E001")]
    if address is None:
        return [
            checks.Warning(
                "No virus scanner is configured: students' uploads reach reviewers unscanned.",
                hint="Set CLAMAV_ADDRESS to the host:port of a ClamAV daemon (clamd).",
                id="cohortly.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def learner_master_keys_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Every command refuses to run (migrate_platform first, before a release starts) with a
    master key that cannot be used: ID numbers could be neither written nor read."""
    try:
        master_keys()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="cohortly.E002")]
    return []


@checks.register(checks.Tags.security)
def timestamp_trust_roots_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """A time-stamp is worth what its authority's root is: without roots of its own, no seal's
    time could be trusted (signing.sealing never falls back to the web's TLS roots)."""
    if settings.SIGNING_TIMESTAMP_URL and not settings.SIGNING_TIMESTAMP_TRUST_ROOTS:
        return [
            checks.Error(
                "SIGNING_TIMESTAMP_URL is set without SIGNING_TIMESTAMP_TRUST_ROOTS: the seals' "
                "time-stamps could not be checked.",
                hint="Set SIGNING_TIMESTAMP_TRUST_ROOTS to a PEM file with the root "
                "certificate(s) of the time-stamp authority's tokens.",
                id="cohortly.E003",
            )
        ]
    return []
