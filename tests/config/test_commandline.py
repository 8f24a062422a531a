"""manage.py without its servers: one line saying which server, why and what to do."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from config.commandline import DEVELOPMENT_ADVICE, advice
from tests.config.test_settings import clean_environment

BASE_DIR = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=clean_environment(DJANGO_ENV="development", **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_command_without_its_database_fails_with_one_line():
    port = closed_port()

    result = manage(
        "suspend_institution", "alpha", DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/x"
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        f"manage.py: cannot connect to the database x at 127.0.0.1:{port} ("
    )
    assert "Connection refused" in result.stderr
    assert result.stderr.endswith("). Check DATABASE_URL and that the server is running.\n")


def test_a_command_without_redis_fails_with_one_line():
    port = closed_port()

    result = manage(
        "shell", "-c", "from django.core.cache import cache; cache.get('anything')",
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
    )  # fmt: skip

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        f"manage.py: cannot connect to Redis (Error 111 connecting to 127.0.0.1:{port}"
    )
    assert ".)" not in result.stderr
    assert result.stderr.endswith("Check REDIS_URL and that the server is running.\n")


def test_traceback_still_shows_the_traceback_and_other_errors_keep_theirs():
    port = closed_port()
    database = f"postgres://postgres@127.0.0.1:{port}/x"

    asked = manage("suspend_institution", "alpha", "--traceback", DATABASE_URL=database)
    other = manage("shell", "-c", "1 / 0", DATABASE_URL=database)

    assert asked.returncode == 1
    assert "Traceback" in asked.stderr
    assert "OperationalError" in asked.stderr
    assert "Traceback" in other.stderr
    assert "ZeroDivisionError" in other.stderr
    assert "manage.py: cannot connect" not in other.stderr


def test_in_development_an_unset_address_points_to_make_manage(monkeypatch, settings):
    settings.PRODUCTION = False
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/0")

    assert advice("DATABASE_URL") == f"DATABASE_URL is not set. {DEVELOPMENT_ADVICE}"
    assert 'make manage ARGS="<command> ..."' in advice("DATABASE_URL")
    assert advice("REDIS_URL") == "Check REDIS_URL and that the server is running."

    settings.PRODUCTION = True
    assert advice("DATABASE_URL") == "Check DATABASE_URL and that the server is running."


@pytest.mark.parametrize("command", ["help", "check"])
def test_commands_that_need_no_server_print_nothing_on_stderr(command):
    port = closed_port()

    result = manage(command, DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/x")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
