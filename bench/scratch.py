"""What every benchmark needs: a scratch database of its own on the configured server (never
the dev or test database), Django set up against it, and the platform migrated.

    with scratch_platform("dashboard") as log:
        ...  # Django is ready; log() writes progress to stderr

Celery messages go to an in-memory broker and e-mail to a dummy backend, so neither Redis nor
a mailbox sees anything. The database is dropped afterwards, even when the benchmark fails.
"""

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cohortly"


class CouldNotMeasure(Exception):
    """The benchmark could not run: its caller exits non-zero."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def url_with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def libpq_url(url: str) -> str:
    """django-environ accepts postgres://, postgresql:// and friends; libpq wants one of two."""
    parts = urlsplit(url)
    scheme = "postgresql" if parts.scheme.startswith("postgres") else parts.scheme
    return urlunsplit(parts._replace(scheme=scheme))


def admin_execute(server_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(
        libpq_url(url_with_database(server_url, "postgres")), autocommit=True, connect_timeout=5
    ) as admin:
        admin.execute(sql)


def configure_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_ENV"] = "development"
    os.environ["DEBUG"] = "false"  # DEBUG would keep every query in memory
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO_ROOT))

    import django

    django.setup()


@contextlib.contextmanager
def scratch_platform(name: str, *, keep: bool = False, migrate: bool = True) -> Iterator[None]:
    """A fresh database `cohortly_bench_<name>_<pid>`, Django configured on it and (unless
    `migrate` is false) `migrate_platform` run; raises CouldNotMeasure when the server cannot
    be reached."""
    server_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    scratch = f"cohortly_bench_{name}_{os.getpid()}"
    try:
        admin_execute(server_url, f'CREATE DATABASE "{scratch}"')
    except Exception as error:
        raise CouldNotMeasure(f"cannot create the scratch database {scratch}: {error}") from error
    log(f"scratch database: {scratch}")
    try:
        configure_django(url_with_database(server_url, scratch))
        if migrate:
            from django.core.management import call_command

            log("migrating the scratch database (platform, template) ...")
            started = time.perf_counter()
            with contextlib.redirect_stdout(sys.stderr):
                call_command("migrate_platform", verbosity=0)
            log(f"  done in {time.perf_counter() - started:.1f} s")
        yield
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if keep:
            log(f"kept the scratch database {scratch}")
        else:
            admin_execute(server_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            log(f"dropped the scratch database {scratch}")


def run_benchmark(name: str, measure, *, keep: bool = False, migrate: bool = True) -> int:
    """Run `measure()` inside a scratch platform and print the figures it returns (a dict of
    name to value), one per line, last; returns the process's exit status."""
    try:
        with scratch_platform(name, keep=keep, migrate=migrate):
            figures = measure()
    except CouldNotMeasure as error:
        log(str(error))
        return 2
    except Exception as error:
        import traceback

        traceback.print_exc()
        log(f"benchmark failed: {type(error).__name__}: {error}")
        return 1
    for figure, value in figures.items():
        print(f"{figure}: {value:.4f}" if isinstance(value, float) else f"{figure}: {value}")
    return 0
