"""Institutions created from the operator's page: a `ProvisioningRequest` from the form to the
institution being there (done) or a message saying why it is not (failed).

The request's row is its task's outbox: it is saved with its audit event, and the task is
handed to the broker after the commit; a broker that cannot be reached loses nothing, the row
waits. A worker takes the request under a lease with one conditional UPDATE, so a duplicate
delivery does nothing, and provisions it (`institution_provision`, one transaction: a worker
that dies in it leaves nothing behind). `provisioning_requests_sweep` (Celery beat) queues again
a request whose task was never handed over or was lost, takes back one whose worker died, and
fails one that has used up its attempts."""

import functools
import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from tenant_schemas_celery.task import headers_with_schema

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from tenants.models import (
    PROVISIONING_IN_PROGRESS,
    Institution,
    ProvisioningRequest,
    ProvisioningRequestStatus,
)
from tenants.services import institution_code_validate, institution_provision

logger = logging.getLogger(__name__)

# Provisioning takes seconds (a pooled schema is renamed; a clone takes about one): a request
# held longer than this has lost its worker. A worker that is only slow does no harm when it is
# taken back: the next one waits for it and finds the institution it made.
PROVISIONING_LEASE = timedelta(minutes=2)
# A queued task no worker has taken within this long was lost (a broker restarted empty): it is
# queued again. Taking a request is atomic, so a late duplicate does nothing.
REDISPATCH_AFTER = timedelta(seconds=60)
# Workers that may die on a request before it is given up, with a message for the operator.
MAX_PROVISIONING_ATTEMPTS = 3
GIVEN_UP = (
    "Creating the institution was interrupted {attempts} times, so it was stopped; nothing was "
    "created. Try again; if it happens again, check that the workers are running."
)
UNEXPECTED = "Creating the institution failed ({kind}); nothing was created. Try again."
IN_PROGRESS = "“{code}” is already being created: wait for that request to finish."


def _operator_check(actor: User) -> None:
    """Only platform operators (active staff of the public schema) ask for institutions."""
    permission_check(
        actor=actor,
        allowed=actor.is_active and actor.is_staff,
        action="tenants.provisioning_request",
    )


def provisioning_code_validate(code: str, *, excluding: ProvisioningRequest | None = None) -> str:
    """The normalised code, or ValidationError: it is not a valid code, an institution has it,
    or another request for it is waiting or running."""
    code = institution_code_validate(code)
    others = ProvisioningRequest.objects.filter(code=code, status__in=PROVISIONING_IN_PROGRESS)
    if excluding is not None:
        others = others.exclude(pk=excluding.pk)
    if others.exists():
        raise ValidationError(IN_PROGRESS.format(code=code), code="in_progress")
    return code


def _dispatch(request_id: int, headers: dict[str, str]) -> bool:
    """Hand the request's task to the broker and note that it did. A broker that cannot be
    reached loses nothing: the request waits in its row and the sweep queues it again."""
    from tenants.tasks import provisioning_request_run_task

    try:
        provisioning_request_run_task.apply_async((request_id,), headers=headers)
    except Exception as error:  # kombu and redis raise many kinds, all meaning "not queued"
        logger.warning(
            "Provisioning request %s not queued (%s); the sweep will queue it.",
            request_id,
            type(error).__name__,
        )
        return False
    ProvisioningRequest.objects.filter(
        pk=request_id, status=ProvisioningRequestStatus.QUEUED
    ).update(dispatched_at=timezone.now())
    return True


def _dispatch_on_commit(provisioning_request: ProvisioningRequest) -> None:
    # The schema now (the public one), not at commit.
    headers = headers_with_schema(None)
    transaction.on_commit(functools.partial(_dispatch, provisioning_request.pk, headers))


def _code_refused(error: IntegrityError, code: str) -> ValidationError:
    """The partial unique constraint's refusal, when another request for `code` won a race."""
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    if constraint != "provisioning_request_code_in_progress":
        raise error
    return ValidationError(IN_PROGRESS.format(code=code), code="in_progress")


def provisioning_request_create(
    *, name: str, code: str, admin_email: str, admin_name: str = "", actor: User
) -> ProvisioningRequest:
    """Ask for an institution: the request is saved, audited and its task queued after the
    commit; the page never waits for provisioning nor fails because the broker is down.
    Refused (ValidationError) for a code that is invalid, taken or already requested."""
    _operator_check(actor)
    code = provisioning_code_validate(code)
    try:
        with transaction.atomic(durable=True):
            provisioning_request = ProvisioningRequest.objects.create(
                name=name.strip(),
                code=code,
                admin_email=admin_email,
                admin_name=admin_name,
                requested_by=actor,
            )
            audit_record(
                actor=actor,
                action="provisioning_request.created",
                entity=provisioning_request,
                new_values={
                    "name": provisioning_request.name,
                    "code": code,
                    "admin_email": admin_email,
                    "admin_name": admin_name,
                },
            )
            _dispatch_on_commit(provisioning_request)
    except IntegrityError as error:
        raise _code_refused(error, code) from error
    return provisioning_request


def provisioning_request_retry(
    *, provisioning_request: ProvisioningRequest, actor: User
) -> ProvisioningRequest:
    """Queue a failed request again, with a fresh set of attempts. Refused when it has not
    failed, or when its code has been taken or requested again meanwhile."""
    _operator_check(actor)
    if provisioning_request.status != ProvisioningRequestStatus.FAILED:
        raise ValidationError("Only a request that failed can be tried again.")
    provisioning_code_validate(provisioning_request.code, excluding=provisioning_request)
    try:
        with transaction.atomic(durable=True):
            retried = ProvisioningRequest.objects.filter(
                pk=provisioning_request.pk, status=ProvisioningRequestStatus.FAILED
            ).update(
                status=ProvisioningRequestStatus.QUEUED,
                error="",
                attempts=0,
                dispatched_at=None,
                lease_expires_at=None,
                updated_at=timezone.now(),
            )
            if not retried:
                raise ValidationError("Only a request that failed can be tried again.")
            provisioning_request.refresh_from_db()
            audit_record(
                actor=actor,
                action="provisioning_request.retried",
                entity=provisioning_request,
                old_values={"status": ProvisioningRequestStatus.FAILED},
                new_values={"status": provisioning_request.status},
            )
            _dispatch_on_commit(provisioning_request)
    except IntegrityError as error:
        raise _code_refused(error, provisioning_request.code) from error
    return provisioning_request


def provisioning_request_dismiss(
    *, provisioning_request: ProvisioningRequest, actor: User
) -> ProvisioningRequest:
    """Set a failed request aside once the operator has read why: it leaves the dashboard and
    the super admin's address and name are forgotten (the audit trail keeps that it existed)."""
    _operator_check(actor)
    with transaction.atomic(durable=True):
        dismissed = ProvisioningRequest.objects.filter(
            pk=provisioning_request.pk, status=ProvisioningRequestStatus.FAILED
        ).update(
            status=ProvisioningRequestStatus.DISMISSED,
            admin_email="",
            admin_name="",
            updated_at=timezone.now(),
        )
        if not dismissed:
            raise ValidationError("Only a request that failed can be dismissed.")
        provisioning_request.refresh_from_db()
        audit_record(
            actor=actor,
            action="provisioning_request.dismissed",
            entity=provisioning_request,
            old_values={"status": ProvisioningRequestStatus.FAILED},
            new_values={"status": provisioning_request.status},
        )
    return provisioning_request


def _take(provisioning_request: ProvisioningRequest) -> bool:
    """Take the request for this worker, atomically: False when it is done or failed, another
    worker holds it, or it has used up its attempts. Reloads `provisioning_request` either way."""
    now = timezone.now()
    taken = ProvisioningRequest.objects.filter(
        Q(status=ProvisioningRequestStatus.QUEUED)
        | Q(status=ProvisioningRequestStatus.RUNNING, lease_expires_at__lte=now),
        pk=provisioning_request.pk,
        attempts__lt=MAX_PROVISIONING_ATTEMPTS,
    ).update(
        status=ProvisioningRequestStatus.RUNNING,
        lease_expires_at=now + PROVISIONING_LEASE,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    provisioning_request.refresh_from_db()
    return bool(taken)


def _institution_made_for(provisioning_request: ProvisioningRequest) -> Institution | None:
    """The institution an earlier attempt at this request made, if one did: its code, name and
    super admin's address, created since the request was. A worker that died between
    provisioning and recording it, or a slow one taken back, leaves that behind."""
    return Institution.objects.filter(
        code=provisioning_request.code,
        name=provisioning_request.name,
        contact_email=provisioning_request.admin_email,
        created_at__gte=provisioning_request.created_at,
    ).first()


def _done(provisioning_request: ProvisioningRequest, institution: Institution) -> None:
    """Record the institution, whatever the sweep thought meanwhile: it exists. The super
    admin's address and name now live in the institution."""
    ProvisioningRequest.objects.filter(pk=provisioning_request.pk).exclude(
        status=ProvisioningRequestStatus.DONE
    ).update(
        status=ProvisioningRequestStatus.DONE,
        institution=institution,
        error="",
        admin_email="",
        admin_name="",
        lease_expires_at=None,
        updated_at=timezone.now(),
    )
    provisioning_request.refresh_from_db()


def _fail(provisioning_request: ProvisioningRequest, message: str) -> None:
    """Mark a request that may still run failed with `message` for the operator, audited (the
    system's decision), unless something else ended it first. Inside the caller's transaction."""
    ended = ProvisioningRequest.objects.filter(
        pk=provisioning_request.pk, status__in=PROVISIONING_IN_PROGRESS
    ).update(
        status=ProvisioningRequestStatus.FAILED,
        error=message,
        lease_expires_at=None,
        updated_at=timezone.now(),
    )
    provisioning_request.refresh_from_db()
    if ended:
        audit_record(
            action="provisioning_request.failed",
            entity=provisioning_request,
            new_values={
                "status": ProvisioningRequestStatus.FAILED,
                "attempts": provisioning_request.attempts,
            },
        )


def provisioning_request_run(*, provisioning_request: ProvisioningRequest) -> ProvisioningRequest:
    """Create the requested institution (the task's work) and record the outcome: done with the
    institution, or failed with the reason (its code was taken meanwhile, an unexpected error).
    Does nothing unless the request is waiting, or held by a worker whose lease ran out.
    An institution an earlier attempt made counts as this attempt's: never two, never a
    failure on its own half-done work."""
    if not _take(provisioning_request):
        return provisioning_request
    operator = provisioning_request.requested_by
    try:
        institution = institution_provision(
            name=provisioning_request.name,
            code=provisioning_request.code,
            admin_email=provisioning_request.admin_email,
            admin_name=provisioning_request.admin_name,
            actor=operator,
        )
    except ValidationError as error:
        made = _institution_made_for(provisioning_request)
        if made is None:
            with transaction.atomic(durable=True):
                _fail(
                    provisioning_request,
                    "The institution was not created: " + " ".join(error.messages),
                )
            return provisioning_request
        institution = made
    except OperationalError:
        raise  # the database is away: the lease runs out and the sweep queues it again
    except Exception as error:
        # An error's message may quote the super admin's address: the log gets its kind only.
        logger.error(
            "Provisioning request %s failed: %s", provisioning_request.pk, type(error).__name__
        )
        with transaction.atomic(durable=True):
            _fail(provisioning_request, UNEXPECTED.format(kind=type(error).__name__))
        return provisioning_request
    _done(provisioning_request, institution)
    return provisioning_request


def provisioning_requests_sweep() -> int:
    """Keep requests moving (Celery beat, every 30 s, in the public schema): queue again one
    whose task was not handed to the broker (it was down) or was lost with it, take back one
    whose worker's lease ran out, and fail, with a message for the operator, one that has
    already lost MAX_PROVISIONING_ATTEMPTS workers; a request whose institution an earlier
    attempt did make is marked done instead. Returns how many requests it acted on."""
    now = timezone.now()
    due = ProvisioningRequest.objects.filter(
        Q(status=ProvisioningRequestStatus.RUNNING, lease_expires_at__lte=now)
        | Q(status=ProvisioningRequestStatus.QUEUED)
        & (Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=now - REDISPATCH_AFTER))
    )
    acted = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            provisioning_request = due.select_for_update(skip_locked=True).filter(pk=pk).first()
            if provisioning_request is None:
                continue
            acted += 1
            made = _institution_made_for(provisioning_request)
            if made is not None:
                _done(provisioning_request, made)
                continue
            if provisioning_request.attempts >= MAX_PROVISIONING_ATTEMPTS:
                logger.warning(
                    "Provisioning request %s given up after %s attempts",
                    pk,
                    provisioning_request.attempts,
                )
                _fail(provisioning_request, GIVEN_UP.format(attempts=provisioning_request.attempts))
                continue
            if provisioning_request.status == ProvisioningRequestStatus.RUNNING:
                logger.warning("Provisioning request %s lost its worker", pk)
            provisioning_request.status = ProvisioningRequestStatus.QUEUED
            provisioning_request.lease_expires_at = None
            provisioning_request.save(update_fields=["status", "lease_expires_at", "updated_at"])
            _dispatch_on_commit(provisioning_request)
    return acted
