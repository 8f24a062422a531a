"""The Celery app. Every task is a `TenantTask`: it carries the schema it was queued in and
runs inside that schema, so a task can never read or write another institution's data."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("cohortly")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
