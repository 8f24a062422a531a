"""Checks on a student's document before anything is stored (DESIGN: uploads): a size limit
enforced while the request streams in, the type judged by the bytes rather than the name, a
clean original name kept only as data, and the SHA-256 of the content."""

import hashlib
import unicodedata
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from cohorts.models import DocumentType, FileKind

MEGABYTE = 1024 * 1024
# filetype reads signatures from the first 8 KiB.
HEAD_BYTES = 8192
KIND_BY_MIME_TYPE = {
    "application/pdf": FileKind.PDF,
    "image/jpeg": FileKind.JPEG,
    "image/png": FileKind.PNG,
}
MIME_TYPE_BY_KIND = {kind: mime for mime, kind in KIND_BY_MIME_TYPE.items()}
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, with what StudentDocument keeps about it."""

    file: UploadedFile
    original_name: str
    size: int
    content_type: str
    sha256: str


def kinds_label(kinds: list[str]) -> str:
    """The kinds for people to read, e.g. "PDF, JPEG image or PNG image"."""
    labels = [FileKind(kind).label for kind in kinds if kind in FileKind.values]
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def max_size_bytes(document_type: DocumentType) -> int:
    return document_type.max_size_mb * MEGABYTE


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading a request's file once more than `limit` bytes of it have arrived, so that an
    oversized upload is neither kept in memory nor written to disk. The form then finds no file,
    and the view reads `exceeded` to say why. Install it first, before the body is read."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # The rest of the body is read and dropped, so the browser still gets our answer.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def too_large_error(document_type: DocumentType, size: int | None = None) -> ValidationError:
    """`size` is unknown when the upload was stopped while it streamed in."""
    return ValidationError(
        "This file%(size)s is more than the %(limit)d MB allowed for %(document)s. Make it "
        "smaller (for example, scan it at a lower resolution) and upload it again.",
        code="too_large",
        params={
            "size": f" ({filesizeformat(size)})" if size else "",
            "limit": document_type.max_size_mb,
            "document": document_type.name,
        },
    )


def original_name_clean(name: str) -> str:
    """The file's own name without any folder part; refused when it holds control characters
    (which could forge lines in logs or exports) or is empty."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if any(unicodedata.category(character).startswith("C") for character in name):
        raise ValidationError(
            "The file's name contains control characters. Rename the file and upload it again.",
            code="name_control_characters",
        )
    if name in ("", ".", ".."):
        raise ValidationError(
            "The file has no name. Rename the file and upload it again.", code="name_empty"
        )
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = f"{stem[: MAX_NAME_LENGTH - len(extension) - 1]}.{extension}"
        else:
            name = name[:MAX_NAME_LENGTH]
    return name


def file_kind(head: bytes) -> str | None:
    """The FileKind that the first bytes of a file show, or None for anything else."""
    guess = filetype.guess(head)
    return KIND_BY_MIME_TYPE.get(guess.mime) if guess else None


def document_upload_check(*, upload: UploadedFile, document_type: DocumentType) -> CheckedUpload:
    """Check an uploaded file against a document type, or raise ValidationError saying what is
    wrong. The size is checked before a byte is read; the content is read once, in chunks."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError(
            "The file is empty. Choose the file again, or save it again and upload it.",
            code="empty",
        )
    if size > max_size_bytes(document_type):
        raise too_large_error(document_type, size)
    original_name = original_name_clean(upload.name)

    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        digest.update(chunk)
    upload.seek(0)

    accepted = document_type.accepted_kinds
    kind = file_kind(head)
    if kind is None:
        raise ValidationError(
            "This file is not a %(accepted)s (what is inside the file counts, not its name). "
            "Save or scan the document in one of those formats and upload it again.",
            code="wrong_type",
            params={"accepted": kinds_label(accepted)},
        )
    if kind not in accepted:
        raise ValidationError(
            "This file is a %(kind)s, but %(document)s must be a %(accepted)s.",
            code="kind_not_accepted",
            params={
                "kind": FileKind(kind).label,
                "document": document_type.name,
                "accepted": kinds_label(accepted),
            },
        )
    return CheckedUpload(
        file=upload,
        original_name=original_name,
        size=size,
        content_type=MIME_TYPE_BY_KIND[kind],
        sha256=digest.hexdigest(),
    )
