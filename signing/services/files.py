"""Files that signing services write inside their transaction (the PDF as sent, a drawn
signature, the sealed PDF): a failed write is told to the person and logged, and what was
written before it is removed, so that nothing is left half-written."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile

logger = logging.getLogger(__name__)

# What a signer is told when their signature (or the sealed PDF it completes) could not be
# stored; the person who sends an agreement is told tenants.storage.STORAGE_FAILED_MESSAGE.
SIGNATURE_STORAGE_FAILED_MESSAGE = "We could not save your signature. Try again later."


def file_store(
    file: FieldFile, *, name: str, content: bytes, failure_message: str, described_as: str
) -> None:
    """Write `content` to `file` without saving its row. A storage failure (a full disk, an
    unreachable bucket; the storage removes what it wrote) is logged with its cause and raised
    as a ValidationError saying `failure_message`, so that the caller's transaction rolls back
    and its page says so. `described_as` names the file in the log by ids, never by personal
    values."""
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
            if file.name:
                file.storage.delete(file.name)
        raise
