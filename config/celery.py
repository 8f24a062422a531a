"""The Celery app. Every task is a tenant task: it carries the schema it was queued in and runs
inside that schema, so a task can never read or write another institution's data."""

import functools
import os
from typing import Any

from django.db import transaction
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask, headers_with_schema

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class _Publish(functools.partial[Any]):
    """`apply_async` with its arguments, to run on commit. Django names an on-commit callback
    by its `__qualname__` when it logs its failure, and a partial has none of its own."""

    __qualname__: str


class InstitutionTask(TenantTask):
    """Queued after commit, but in the schema that was current when it was asked for: a service
    may leave an institution's schema before its transaction commits (provisioning does)."""

    abstract = True

    def __call__(self, *args, **kwargs):
        """Runs in the institution's time zone, as its pages do: a task's e-mails and
        documents give times as the institution's people read them."""
        from tenants.zones import institution_time

        with institution_time():
            return super().__call__(*args, **kwargs)

    def delay_on_commit(self, *args, **kwargs) -> None:
        self.apply_async_on_commit(args, kwargs)

    def apply_async_on_commit(self, args=None, kwargs=None, **options) -> None:
        options["headers"] = headers_with_schema(options.get("headers"))

        publish = _Publish(self.apply_async, args, kwargs, **options)
        publish.__qualname__ = f"{self.name}.apply_async"  # Django names it when logging
        # robust: the change is committed; a broker that cannot be reached must not turn it into
        # an error page. Outbox sweeps (e-mail, sync jobs) queue what was not handed over.
        transaction.on_commit(publish, robust=True)


app = CeleryApp("cohortly", task_cls=InstitutionTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
