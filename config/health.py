"""What the readiness probe checks: each service a request may need, tried for real."""

import logging
import uuid
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

logger = logging.getLogger(__name__)

# A probe that waits longer than this has failed: the orchestrator's own timeout is a few seconds.
REDIS_TIMEOUT_SECONDS = 2


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def redis_check() -> None:
    """Every Redis the app uses (the cache, and the Celery broker if it is another one)."""
    urls = {settings.CACHES["default"]["LOCATION"], settings.CELERY_BROKER_URL}
    for url in sorted(url for url in urls if url.startswith(("redis://", "rediss://"))):
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        finally:
            client.close()


def storage_check() -> None:
    """Write, read back and delete a small file where uploads go (the platform's own folder)."""
    with schema_context(get_public_schema_name()):
        name = default_storage.save(f"readiness/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
        try:
            with default_storage.open(name, "rb") as stored:
                if stored.read() != b"ok":
                    raise OSError("the file read back differs from the one written")
        finally:
            default_storage.delete(name)


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": database_check,
    "redis": redis_check,
    "storage": storage_check,
}


def readiness() -> dict[str, bool]:
    """Each check's name and whether it passed; why one failed goes to the log only, since the
    probe's answer is public."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("Readiness check %s failed", name)
            results[name] = False
        else:
            results[name] = True
    return results
