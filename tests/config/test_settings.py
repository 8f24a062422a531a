"""Production settings: `check --deploy` is clean, and nothing secret has a default."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "cohortly.example,.cohortly.example",
    "DATABASE_URL": "postgres://cohortly:secret@db.cohortly.example:5432/cohortly",
    "REDIS_URL": "redis://redis.cohortly.example:6379/0",
    "EMAIL_URL": "smtp://mail.cohortly.example:25",
    "INTEGRATIONS_ENCRYPTION_KEY": "1PT3S7Mz2cQ3Jpc3nX7Zt3hm0y8qQWb7m2wQ4s8Rk1U=",
    "CLAMAV_ADDRESS": "clamav.cohortly.example:3310",
    "LEARNER_MASTER_KEYS": "q2Vh0cXq6JbN0d8mC3hM1Jb3M3vQ0m4yS1b4nWk9yZw=",
}


def clean_environment(**variables: str) -> dict[str, str]:
    """A process environment with nothing of the test run's (PYTEST_VERSION would make the
    settings default DJANGO_ENV to "test", conftest sets DJANGO_ALLOW_ASYNC_UNSAFE) and no
    deployment variable but the given ones."""
    kept = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    env = {key: value for key, value in os.environ.items() if key in kept}
    env.update(variables)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_passes_the_deployment_checklist():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output, output


@pytest.mark.parametrize(
    "variable",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "INTEGRATIONS_ENCRYPTION_KEY",
        "LEARNER_MASTER_KEYS",
    ],
)
def test_production_refuses_to_start_without(variable):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != variable}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert variable in result.stderr, result.stderr


def test_production_hashes_passwords_with_argon2_first():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.PASSWORD_HASHERS[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean_environment(**PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"
