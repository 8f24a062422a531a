"""Fault fixtures: a Redis server of the test's own (never the shared one), which a test may
stop and start again, with this process's cache and Celery producer pointed at it; and Celery
worker processes on that Redis, which a test may kill. Each is stopped by its process id."""

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.processes import RedisServer

REPO_ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """`celery worker` in a process of its own (solo pool: the task runs in the process that
    a SIGKILL ends), on the test's Redis and the test database, consuming the imports queue."""

    def __init__(self, redis_server: RedisServer, media_root: Path) -> None:
        from config.celery import app

        database = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # Password and host quoted, the host as a query parameter: it may be the socket
            # folder of the embedded server.
            "DATABASE_URL": f"postgres://{quote(database['USER'] or '', safe='')}:"
            f"{quote(database['PASSWORD'] or '', safe='')}@/{database['NAME']}"
            f"?host={quote(database['HOST'] or '127.0.0.1', safe='/')}"
            f"&port={database['PORT'] or 5432}",
        }
        prefix = app.conf.broker_transport_options.get("global_keyprefix", "")
        script = (
            "import django\n"
            "django.setup()\n"
            "from django.conf import settings\n"
            f"settings.MEDIA_ROOT = {str(media_root)!r}\n"
            f"settings.CACHES['default']['LOCATION'] = {redis_server.url!r}\n"
            "settings.CACHES['default']['KEY_PREFIX'] = "
            f"{django_settings.CACHES['default'].get('KEY_PREFIX', '')!r}\n"
            "from config.celery import app\n"
            f"app.conf.broker_url = {redis_server.url!r}\n"
            "app.conf.broker_transport_options = {**app.conf.broker_transport_options, "
            f"'global_keyprefix': {prefix!r}}}\n"
            "app.worker_main(['worker', '--pool=solo', '--queues=imports,default', "
            "'--loglevel=WARNING', '--without-mingle', '--without-gossip', "
            "'--without-heartbeat'])\n"
        )
        self.process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, env=env)  # noqa: S603

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acknowledgement, as when the machine loses the process."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(own_redis, media):
    """Start worker processes on the test's Redis; any left running are stopped at the end."""
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        worker = WorkerProcess(own_redis, media)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
