import time
from django.core import mail
from django_tenants.utils import tenant_context
from tenants.services import institution_provision
from notifications.models import OutboundEmail


def test_debug(celery_worker, settings, unique):
    from celery.signals import before_task_publish
    def show(sender=None, headers=None, body=None, **kw):
        print("PUBLISH", sender, headers.get("_schema_name"), body[0] if body else None)
    before_task_publish.connect(show, weak=False)
    inst = institution_provision(name="X " + unique, code="x-" + unique, admin_email=f"h@x{unique}.example")
    time.sleep(3)
    with tenant_context(inst):
        print(list(OutboundEmail.objects.values("id", "status", "recipient")))
    print(mail.outbox)
