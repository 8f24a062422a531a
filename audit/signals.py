"""Audit sign-ins (failed ones included) and carry the correlation id into Celery tasks. Django
signs people in and out outside any transaction: each event gets a small one of its own."""

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from audit import context
from audit.services import audit_record

CORRELATION_HEADER = "correlation_id"


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    with transaction.atomic():
        audit_record(actor=user, action="auth.login", entity=user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        with transaction.atomic():
            audit_record(actor=user, action="auth.logout", entity=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The address typed is personal: the event names the account it belongs to, if any.
    user_model = get_user_model()
    email = str(credentials.get("username", ""))
    user = user_model.objects.filter(email__iexact=email.strip()).first() if email else None
    with transaction.atomic():
        if user is None:
            audit_record(action="auth.login_failed", entity_type=user_model._meta.label_lower)
        else:
            audit_record(action="auth.login_failed", entity=user)


@before_task_publish.connect
def add_correlation_header(headers=None, **kwargs) -> None:
    if headers is not None:
        headers.setdefault(CORRELATION_HEADER, context.current_context().correlation_id)


@task_prerun.connect
def enter_task_context(task=None, **kwargs) -> None:
    correlation_id = (task.request.headers or {}).get(CORRELATION_HEADER) or task.request.get(
        CORRELATION_HEADER
    )
    task.request._audit_context_token = context.activate(
        context.RequestContext(correlation_id=context.new_correlation_id(correlation_id))
    )


@task_postrun.connect
def leave_task_context(task=None, **kwargs) -> None:
    token = getattr(task.request, "_audit_context_token", None)
    if token is not None:
        context.deactivate(token)
