"""Learners who finished a programme (tests.delivery.certificate_fixtures) for every data
protection test."""

from tests.delivery.certificate_fixtures import graduate, programme_runs  # noqa: F401 (fixtures)
