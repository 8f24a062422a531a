"""Fault fixtures: a Redis server of the test's own (never the shared one), which a test may
stop and start again, with this process's cache and Celery producer pointed at it; and Celery
worker processes on that Redis, which a test may kill. Each is stopped by its process id."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, *, timeout: float = 60.0, every: float = 0.1):
    """Poll `predicate` until it returns something true; fail with its docstring on time-out."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {predicate.__doc__ or predicate}")
        time.sleep(every)
    return value


class RedisServer:
    """redis-server on a free loopback port, without persistence: stopping it loses every
    queued message, as a restarted broker without a disk does."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)

        def answers() -> bool:
            """our Redis server to answer"""
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(answers, timeout=10)
        client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        self.process.wait(10)
        self.process = None


def _celery_reset_pools() -> None:
    # Forget, never close: kombu shares the pools process-wide, keyed by broker URL.
    from config.celery import app

    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis(tmp_path, settings):
    """A Redis server of the test's own, serving as this process's cache and Celery broker for
    the test (the shared server stays as it is for everyone else)."""
    from config.celery import app

    server = RedisServer(tmp_path)
    server.start()
    settings.CACHES = {
        "default": {**django_settings.CACHES["default"], "LOCATION": server.url},
    }
    original = app.conf.broker_url
    app.conf.broker_url = server.url
    _celery_reset_pools()
    try:
        yield server
    finally:
        app.conf.broker_url = original
        _celery_reset_pools()
        server.stop()


class WorkerProcess:
    """`celery worker` in a process of its own (solo pool: the task runs in the process that
    a SIGKILL ends), on the test's Redis and the test database, consuming the imports queue."""

    def __init__(self, redis_server: RedisServer, media_root: Path) -> None:
        from config.celery import app

        database = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}",
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
