"""Helpers for tests that need a real Celery worker."""

import time
from contextlib import contextmanager

import pytest
from django.conf import settings


def worker_queues() -> list[str]:
    """Every queue the app routes tasks to: the default one and those named in the routes."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route}
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *routed})


@contextmanager
def worker_on_every_queue():
    """A Celery worker thread consuming every queue, not only the default one: without
    `queues`, a worker listens to the default queue alone and e-mails routed to
    `notifications` would never run."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with start_worker(
        app,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=10,
        queues=worker_queues(),
    ) as worker:
        yield worker


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.05):
    """Poll until `predicate()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout} s waiting for {predicate.__doc__ or predicate}")
        time.sleep(interval)
