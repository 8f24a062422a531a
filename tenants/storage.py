"""File storage whose every path starts with the current schema's name, so one institution's
files can never be addressed from another's: TenantFileSystemStorage (MEDIA_ROOT/<schema>/)
and TenantS3Storage (<bucket>/<schema>/).

A failed write leaves nothing behind and raises OSError (StorageFailed for S3-compatible
storage, with the service's own error as its cause), so that callers handle a full disk and an
unreachable bucket alike; services that write files inside their transaction use
`file_store` and `files_removed_on_failure`, so the person is told and nothing is left
half-written."""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django_tenants.files.storage import TenantFileSystemStorage as BaseTenantFileSystemStorage
from storages.backends.s3 import S3Storage

from tenants.db import tenant_connection

logger = logging.getLogger(__name__)

# What a person is told when a file they sent could not be stored.
STORAGE_FAILED_MESSAGE = "We could not store your file. Try again later."


class StorageFailed(OSError):
    """The storage service refused or failed a write."""


class TenantFileSystemStorage(BaseTenantFileSystemStorage):
    """django-tenants' storage on local disk, which removes what a failed write left (Django's
    own keeps the partly written file when the disk fills up or fails)."""

    def _save(self, name: str, content) -> str:
        path = self.path(name)
        # Stored names are random (StudentDocument, logos), so a file already there is another
        # upload's: Django then writes under a new name, which only it knows, and ours is kept.
        existed = os.path.lexists(path)
        try:
            return super()._save(name, content)
        except OSError:
            if not existed:
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass
                except OSError as error:
                    logger.error("Could not remove the partly written file %s: %r", name, error)
            raise


class TenantS3Storage(S3Storage):
    """S3-compatible object storage under <bucket>/<schema>/; files are private and reached
    only through short-lived signed URLs. A failed upload leaves no object (boto3 aborts a
    multipart upload that fails)."""

    default_acl = "private"
    querystring_auth = True

    @property
    def location(self) -> str:
        return tenant_connection.schema_name

    @location.setter
    def location(self, value: str) -> None:
        """The location always follows the schema; a configured one is ignored."""

    def save(self, name, content, max_length=None) -> str:
        try:
            return super().save(name, content, max_length=max_length)
        except (BotoCoreError, ClientError, Boto3Error) as error:
            raise StorageFailed(f"{type(error).__name__}: {error}") from error


def file_store(
    file: FieldFile, *, name: str, content: bytes, failure_message: str, described_as: str
) -> None:
    """Write `content` to `file` without saving its row, inside the caller's transaction. A
    storage failure (a full disk, an unreachable bucket; the storage removes what it wrote) is
    logged with its cause and raised as a ValidationError saying `failure_message`, so that the
    caller's transaction rolls back and its page says so. `described_as` names the file in the
    log by ids, never by personal values."""
    try:
        file.save(name, ContentFile(content), save=False)
    except OSError as error:
        logger.error(
            "Could not store %s (%s bytes): %r", described_as, len(content), error, exc_info=error
        )
        raise ValidationError(failure_message, code="storage_failed") from error


@contextmanager
def files_removed_on_failure() -> Iterator[list[FieldFile]]:
    """Files saved to storage inside a transaction stay when it rolls back: the caller lists
    what it saved, and they are deleted if anything fails, so that no orphan is left."""
    stored: list[FieldFile] = []
    try:
        yield stored
    except BaseException:
        for file in stored:
            if not file.name:
                continue
            try:
                file.storage.delete(file.name)
            except Exception as error:  # the storage that just failed may fail again: go on
                logger.error("Could not remove %s after a failure: %r", file.name, error)
        raise


def file_delete_on_commit(storage: Storage, name: str) -> None:
    """Delete `name` once the caller's transaction has committed (a file the rows no longer
    point to). A storage that fails then is logged: the change it follows has been made."""

    def delete() -> None:
        try:
            storage.delete(name)
        except Exception as error:
            logger.error("Could not delete %s after its change committed: %r", name, error)

    transaction.on_commit(delete)
