"""Answering a learner's access request: staff allowed to export personal data ask for it in
one action, a task gathers everything held (privacy.access.holdings) into a private ZIP, and
only those allowed download it. Each step is audited, without personal values."""

import logging
import secrets
import tempfile
from datetime import timedelta
from functools import partial

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from learners.models import Learner
from privacy.access.archive import access_archive_write
from privacy.access.holdings import learner_holdings
from privacy.access.tasks import access_request_fulfil_task
from privacy.models import AccessRequest, AccessRequestStatus, DataProtectionSettings

logger = logging.getLogger(__name__)

EXPORT_PERMISSION = "privacy.export_personal_data"
FAILED_MESSAGE = "The export could not be prepared. Ask again; if it fails again, tell support."


def access_request_create(*, learner: Learner, actor: User) -> AccessRequest:
    """Ask for everything held about `learner`; the ZIP is prepared by a task after commit."""
    permission_check(
        actor=actor, permission=EXPORT_PERMISSION, action="privacy.access_request_create"
    )
    with transaction.atomic(durable=True):
        access_request = AccessRequest.objects.create(learner=learner, requested_by=actor)
        audit_record(
            actor=actor,
            action="access_request.requested",
            entity=access_request,
            new_values={"learner": learner.pk},
        )
        access_request_fulfil_task.delay_on_commit(access_request.pk)
    return access_request


def _fail(access_request: AccessRequest, error: Exception) -> None:
    logger.error("Access request %s failed: %r", access_request.pk, error, exc_info=error)
    with transaction.atomic(durable=True):
        access_request = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
        access_request.status = AccessRequestStatus.FAILED
        access_request.error_message = FAILED_MESSAGE
        access_request.save(update_fields=["status", "error_message"])
        audit_record(
            action="access_request.failed",
            entity=access_request,
            new_values={"error": type(error).__name__},
        )


def access_request_fulfil(*, access_request: AccessRequest) -> AccessRequest:
    """Build and store the ZIP of a pending request, as the person who asked for it (their
    ID number's production is audited as theirs). Idempotent: a request that is no longer
    pending is left as it is. A failure is recorded on the request, not raised."""
    stored = ""
    try:
        with transaction.atomic(durable=True):
            access_request = (
                AccessRequest.objects.select_for_update(of=("self",))
                .select_related("learner", "requested_by")
                .get(pk=access_request.pk)
            )
            if access_request.status != AccessRequestStatus.PENDING:
                return access_request
            areas = learner_holdings(
                learner=access_request.learner, actor=access_request.requested_by
            )
            with tempfile.TemporaryFile() as archive:
                access_archive_write(
                    archive=archive,
                    learner=access_request.learner,
                    areas=areas,
                    reference=f"#{access_request.pk}",
                )
                size = archive.seek(0, 2)
                archive.seek(0)
                stored = default_storage.save(
                    f"access-requests/{access_request.pk}/{secrets.token_hex(16)}.zip",
                    File(archive),
                )
            access_request.status = AccessRequestStatus.READY
            access_request.result_file_path = stored
            access_request.fulfilled_at = timezone.now()
            access_request.save(update_fields=["status", "result_file_path", "fulfilled_at"])
            audit_record(
                action="access_request.fulfilled",
                entity=access_request,
                new_values={
                    "bytes": size,
                    "rows": {area.key: len(area.rows) for area in areas},
                    "files": sum(len(area.files) for area in areas),
                },
            )
    except Exception as error:
        if stored:
            default_storage.delete(stored)
        _fail(access_request, error)
    access_request.refresh_from_db()
    return access_request


def _files_delete(requests: models.QuerySet[AccessRequest], reason: str) -> int:
    """Delete the ZIPs of `requests`, inside the caller's transaction: the requests forget
    their file (the download is refused from then on) and each deletion is audited; the files
    go once the transaction commits, so that a rollback leaves them. Returns how many."""
    deleted = list(requests.exclude(result_file_path="").select_for_update(of=("self",)))
    for access_request in deleted:
        path = access_request.result_file_path
        access_request.result_file_path = ""
        access_request.save(update_fields=["result_file_path"])
        audit_record(
            action="access_request.file_deleted",
            entity=access_request,
            new_values={"reason": reason},
        )
        transaction.on_commit(partial(default_storage.delete, path))
    return len(deleted)


def access_request_files_of_purged_account(sender: object, *, user: User, **kwargs: object) -> int:
    """When an account is anonymised (accounts.signals.account_purged, inside its
    transaction): the exports prepared for that person's learner record are deleted."""
    return _files_delete(AccessRequest.objects.filter(learner__user=user), "account purged")


def access_request_expiry_days() -> int:
    """How long an export is kept: the institution's report expiry (its default until set)."""
    days = (
        DataProtectionSettings.objects.filter(pk=1)
        .values_list("report_expiry_days", flat=True)
        .first()
    )
    return days or DataProtectionSettings._meta.get_field("report_expiry_days").default


def access_requests_expire() -> int:
    """Delete the ZIPs prepared longer ago than the institution's report expiry (daily, per
    institution): an export full of personal data does not wait on a server for good."""
    cutoff = timezone.now() - timedelta(days=access_request_expiry_days())
    with transaction.atomic(durable=True):
        return _files_delete(AccessRequest.objects.filter(fulfilled_at__lt=cutoff), "expired")


def access_request_download(*, access_request: AccessRequest, actor: User) -> FieldFile:
    """The ready ZIP for someone allowed to export personal data; the download is audited."""
    permission_check(
        actor=actor,
        permission=EXPORT_PERMISSION,
        allowed=access_request.status == AccessRequestStatus.READY
        and bool(access_request.result_file_path),
        action="privacy.access_request_download",
    )
    with transaction.atomic(durable=True):
        audit_record(actor=actor, action="access_request.downloaded", entity=access_request)
    return FieldFile(access_request, models.FileField(), access_request.result_file_path)
