"""Liveness (/healthz) and readiness (/readyz) probes, as a load balancer asks them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.config.test_settings import BASE_DIR, clean_environment
from tests.processes import free_port

HOSTS = ["localhost", "alpha.localhost", "nowhere.example", "10.1.2.3"]


@pytest.mark.parametrize("host", HOSTS)
def test_healthz_answers_on_any_host_without_a_query(db, django_assert_num_queries, host):
    with django_assert_num_queries(0):
        response = Client(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.parametrize("host", HOSTS)
def test_readyz_answers_200_when_everything_works(db, media, host):
    response = Client(HTTP_HOST=host).get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"database": "ok", "redis": "ok", "storage": "ok"}
    assert not list((media / "public" / "readiness").iterdir()), "the probe file is left"


def test_readyz_answers_503_naming_redis_when_redis_is_down(db, media, own_redis):
    client = Client(HTTP_HOST="10.1.2.3")
    assert client.get("/readyz").status_code == 200

    own_redis.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "failed", "storage": "ok"}


def test_readyz_answers_503_naming_storage_when_uploads_cannot_be_written(db, settings, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    settings.MEDIA_ROOT = str(tmp_path / "a-file" / "media")
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"  # makes the storage forget its cached root
    response = Client(HTTP_HOST="localhost").get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "ok", "storage": "failed"}


def test_readyz_answers_503_naming_the_database_when_it_cannot_be_reached(tmp_path):
    """In a process of its own whose database is a port nobody listens on: the test database
    stays untouched."""
    code = (
        "import django; django.setup(); from django.test import Client; "
        "response = Client(HTTP_HOST='10.1.2.3').get('/readyz'); "
        "print(response.status_code, response.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean_environment(
            DJANGO_ENV="development",
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/cohortly",
            REDIS_URL=django_settings.REDIS_URL,
            MEDIA_ROOT=str(tmp_path / "media"),
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().split(" ", 1)
    assert (status, json.loads(body)) == (
        "503",
        {"database": "failed", "redis": "ok", "storage": "ok"},
    ), result.stderr
    assert "Readiness check database failed" in result.stderr
    assert Path(tmp_path / "media").exists()
