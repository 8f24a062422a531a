"""Checks on a student's document before anything is stored (DESIGN: uploads), and the way a
stored one is handed back.

Before storing: the size limit is enforced while the request streams in; the file's name is
refused if it has folder parts or control characters (as the client sent it, before Django's
own tidying); the type is judged by the bytes (`filetype`), never the name; and the content
must really be that type: a PDF must parse with `pypdf` and not be encrypted, an image must
decode with Pillow and stay under a pixel limit. Files that are two things at once (web page
code at the start, data after a PNG's or PDF's end) are refused. A PDF with active content
(JavaScript, automatic actions, launch commands, attached files, XFA forms; see
enrolments.pdf_content) is refused, or, where the institution chose so, replaced by a copy
without it. A per-enrolment quota caps the storage one student can take.

After storing: files are never served from a public URL. `stored_file_response` streams the
file with a safe Content-Disposition, or with S3-compatible storage redirects to a signed URL
that expires within AWS_QUERYSTRING_EXPIRE (300 seconds)."""

import datetime
import hashlib
import html
import logging
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db.models import Sum
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponseRedirect, QueryDict
from django.http.multipartparser import MultiPartParser
from django.http.response import HttpResponseBase
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.http import content_disposition_header
from PIL import Image
from pypdf import PdfReader

from cohorts.models import DocumentType, FileKind
from enrolments.models import CohortEnrollment, ScanStatus, StudentDocument
from enrolments.pdf_content import (
    ActiveContent,
    ActiveContentNotRemoved,
    active_content_found,
    active_content_remove,
)
from tenants.db import tenant_connection
from tenants.services import REMOVE_PDF_ACTIVE_CONTENT
from tenants.storage import STORAGE_FAILED_MESSAGE

logger = logging.getLogger(__name__)
T = TypeVar("T")

MEGABYTE = 1024 * 1024
# filetype reads signatures from the first 8 KiB.
HEAD_BYTES = 8192
# Browsers sniff a response's type from its first 1445 bytes (WHATWG MIME Sniffing, "resource
# header"); web page code there could make a lenient reader treat the file as a page.
SNIFFED_BYTES = 1445
# A PDF's end-of-file marker and a PNG's IEND chunk are looked for in the last bytes.
TAIL_BYTES = 1024
KIND_BY_MIME_TYPE: dict[str, FileKind] = {
    "application/pdf": FileKind.PDF,
    "image/jpeg": FileKind.JPEG,
    "image/png": FileKind.PNG,
}
MIME_TYPE_BY_KIND = {kind: mime for mime, kind in KIND_BY_MIME_TYPE.items()}
PILLOW_FORMAT_BY_KIND = {FileKind.JPEG: "JPEG", FileKind.PNG: "PNG"}
MAX_NAME_LENGTH = 255
# Defaults for settings that a deployment may override.
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000
DEFAULT_ENROLLMENT_QUOTA_MB = 100

MARKUP = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|frame|svg|object|embed|meta|link|style)[\s/>]",
    re.IGNORECASE,
)
# Only end-of-line characters, spaces and NUL padding may follow a PDF's last %%EOF.
PDF_END = re.compile(rb"%%EOF[\s\x00]*\Z")
# Every PNG ends with the same empty IEND chunk: length 0, type, CRC.
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, with what StudentDocument keeps about it: the file
    to store (the upload itself, or a copy without its active content, whose `sha256` it is;
    `original_sha256` is then the upload's)."""

    file: File
    original_name: str
    size: int
    content_type: str
    sha256: str
    original_sha256: str = ""

    def document(
        self,
        *,
        document_type: DocumentType,
        scan_status: str = ScanStatus.NOT_SCANNED,
        expires_on: datetime.date | None = None,
    ) -> StudentDocument:
        """The unsaved document that keeps this upload (enrollment_document_add stores it)."""
        return StudentDocument(
            document_type=document_type,
            expires_on=expires_on,
            file=self.file,
            original_name=self.original_name,
            size=self.size,
            content_type=self.content_type,
            sha256=self.sha256,
            original_sha256=self.original_sha256,
            scan_status=scan_status,
        )


def _listed(labels: list[str], last: str) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} {last} {labels[-1]}"


def kinds_label(kinds: list[str]) -> str:
    """The kinds for people to read, e.g. "PDF, JPEG image or PNG image"."""
    return _listed([FileKind(kind).label for kind in kinds if kind in FileKind.values], "or")


def max_size_bytes(document_type: DocumentType) -> int:
    return document_type.max_size_mb * MEGABYTE


def max_image_pixels() -> int:
    return getattr(settings, "UPLOAD_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)


def enrollment_quota_bytes() -> int:
    return getattr(settings, "UPLOAD_ENROLLMENT_QUOTA_MB", DEFAULT_ENROLLMENT_QUOTA_MB) * MEGABYTE


# --- While the request streams in -------------------------------------------------------------


class _NameRecordingParser(MultiPartParser):
    """Django's multipart parser, telling `guard` each file's name as the client sent it.
    Django silently drops folder parts and control characters from names; we refuse them."""

    def __init__(self, *args, guard: "UploadGuard", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard

    def sanitize_file_name(self, file_name: str) -> str | None:
        self.guard.sent_names.append(file_name)
        return super().sanitize_file_name(file_name)


class UploadGuard(FileUploadHandler):
    """Installed first, before anything reads the request body. Stops reading a file once more
    than `limit` bytes of it have arrived, so that an oversized upload is neither kept in
    memory nor written to disk (the form then finds no file, and the view reads `exceeded` to
    say why), and records every file name exactly as sent, in `sent_names`."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.sent_names: list[str] = []
        self._parsing = False

    @classmethod
    def install(cls, request: HttpRequest, limit: int) -> "UploadGuard":
        guard = cls(request, limit)
        if request.method == "POST":
            request.upload_handlers.insert(0, guard)
        return guard

    def handle_raw_input(
        self, input_data, META, content_length, boundary, encoding=None
    ) -> tuple[QueryDict, MultiValueDict] | None:
        """Parse the body ourselves, with the parser that records names (Django's documented
        hook: a (POST, FILES) answer replaces its own parsing). The inner parse asks the
        handlers again; this one then lets it go on."""
        if self._parsing or self.request is None:
            return None
        self._parsing = True
        try:
            parser = _NameRecordingParser(
                META, input_data, self.request.upload_handlers, encoding, guard=self
            )
            return parser.parse()
        finally:
            self._parsing = False

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

    def sent_names_check(self) -> None:
        """Raise ValidationError if any file name in the request, as sent, is refused by
        original_name_clean. Once all pass, Django's tidied `upload.name` is the same name."""
        for name in self.sent_names:
            original_name_clean(name)


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


def document_expiry_clean(
    document_type: DocumentType, expires_on: datetime.date | None
) -> datetime.date | None:
    """The expiry date the student gave, asked for when the document type expires (a passport)
    and left empty for one that does not (an ID card): it must be after today, since an
    expired document does not count. None for a type that does not expire."""
    if not document_type.expires:
        return None
    if expires_on is not None and expires_on <= timezone.localdate():
        raise ValidationError(
            "This date has passed (or is today): an expired document cannot be accepted. Check "
            "the date, or upload a document that is still valid.",
            code="expired",
        )
    return expires_on


# --- The name ---------------------------------------------------------------------------------


def original_name_clean(name: str) -> str:
    """The file's name as sent, kept only as data. Refused when it has folder parts (a name
    such as ../../etc/passwd is an attack, never a browser's doing), control characters (which
    could forge lines in logs, headers or exports) or nothing at all. Character references are
    decoded first, as Django's parser does, so that &#47; cannot stand in for a slash."""
    name = html.unescape(name or "").strip()
    if any(unicodedata.category(character).startswith("C") for character in name):
        raise ValidationError(
            "The file's name contains control characters (such as line breaks). Rename the "
            "file and upload it again.",
            code="name_control_characters",
        )
    if "/" in name or "\\" in name:
        raise ValidationError(
            "The file's name contains folder parts (such as ../ or a slash). Upload the file "
            "itself, with a plain name such as id-document.pdf.",
            code="name_path",
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


# --- The content ------------------------------------------------------------------------------


def file_kind(head: bytes) -> FileKind | None:
    """The FileKind that the first bytes of a file show, or None for anything else."""
    guess = filetype.guess(head)
    return KIND_BY_MIME_TYPE.get(guess.mime) if guess else None


def _pdf_check(file: IO[bytes], tail: bytes) -> None:
    """The PDF must open with pypdf (lenient about small faults, as readers are), must not be
    encrypted (we could neither check nor review it) and must have a page."""
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(file, strict=False)
            encrypted = reader.is_encrypted
            pages = 0 if encrypted else len(reader.pages)
    except Exception as error:  # pypdf raises many kinds on hostile input, recursion included
        raise _pdf_broken_error() from error
    if encrypted:
        raise ValidationError(
            "This PDF is protected with a password or encryption, so it cannot be checked or "
            "reviewed. Save or print it as a PDF without a password and upload that.",
            code="pdf_encrypted",
        )
    if pages == 0:
        raise ValidationError(
            "This PDF has no pages. Check that it is the right file and upload it again.",
            code="pdf_empty",
        )
    if not PDF_END.search(tail):
        raise ValidationError(
            "This PDF has other data attached after the end of the document, which is how "
            "some attacks hide. Save or print it as a PDF again and upload the new file.",
            code="trailing_data",
        )


def _pdf_broken_error() -> ValidationError:
    return ValidationError(
        "This PDF is damaged and cannot be opened. Save or export it as a PDF again (or "
        "scan the document again) and upload the new file.",
        code="pdf_broken",
    )


def active_content_error(found: list[ActiveContent]) -> ValidationError:
    return ValidationError(
        "This PDF contains %(found)s, which could run on the computer of whoever opens it, so "
        "it cannot be accepted. Open the PDF and print it to a new PDF (choose “Save as PDF” "
        "or “Microsoft Print to PDF” as the printer), or scan the paper document again, and "
        "upload the new file.",
        code="pdf_active_content",
        params={"found": _listed([kind.value for kind in found], "and")},
    )


def _pdf_active_content_check(
    upload: UploadedFile, original_name: str, remove: bool
) -> File | None:
    """None when the PDF holds no active content. Otherwise, with `remove`, a copy without it
    (in a temporary file that goes when it is closed); without, the refusal."""
    try:
        found = active_content_found(upload)
    except Exception as error:  # qpdf raises PdfError, and others on hostile input
        raise _pdf_broken_error() from error
    if not found:
        return None
    if not remove:
        raise active_content_error(found)
    copy = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed with the File that holds it)
        max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, dir=settings.FILE_UPLOAD_TEMP_DIR
    )
    try:
        active_content_remove(upload, copy)
    except ActiveContentNotRemoved as left:
        copy.close()
        logger.warning("Active content left in a PDF after its removal: %s", left)
        raise active_content_error(left.found) from left
    except Exception as error:
        copy.close()
        raise _pdf_broken_error() from error
    return File(copy, name=original_name)


def _too_many_pixels_error(size: tuple[int, int] | None) -> ValidationError:
    return ValidationError(
        "This image%(dimensions)s has more than the %(limit)s million pixels allowed. Resize "
        "it (or scan it at a lower resolution) and upload it again.",
        code="too_many_pixels",
        params={
            "dimensions": f" ({size[0]:,} × {size[1]:,} pixels)" if size else "",
            "limit": f"{max_image_pixels() / 1_000_000:g}",
        },
    )


def _image_check(file: IO[bytes], kind: FileKind, tail: bytes) -> None:
    """The image's size is read from its header and checked before any pixel is decoded
    (decompression bombs), then the whole image must decode. JPEGs decode at an eighth of
    their size, which still reads all of their data; the pixel limit bounds the memory a PNG
    takes (four bytes a pixel at most)."""
    formats = [PILLOW_FORMAT_BY_KIND[kind]]
    broken = ValidationError(
        "This image is damaged or incomplete and cannot be opened. Save it again (or take a "
        "new photo or scan) and upload the new file.",
        code="image_broken",
    )
    try:
        file.seek(0)
        with Image.open(file, formats=formats) as image:
            width, height = image.size
            if width * height > max_image_pixels():
                raise _too_many_pixels_error((width, height))
            image.verify()
        file.seek(0)
        with Image.open(file, formats=formats) as image:
            if kind == FileKind.JPEG:
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()
    except ValidationError:
        raise
    except Image.DecompressionBombError as error:  # Pillow's own, far larger, limit
        raise _too_many_pixels_error(None) from error
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, ... here
        raise broken from error
    if kind == FileKind.PNG and not tail.endswith(PNG_END):
        raise ValidationError(
            "This image has other data attached after its end, which is how some attacks "
            "hide. Save it again as a PNG (or as a JPEG) and upload the new file.",
            code="trailing_data",
        )


def document_upload_check(
    *, upload: UploadedFile, document_type: DocumentType, remove_active_content: bool = False
) -> CheckedUpload:
    """Check an uploaded file against a document type, or raise ValidationError saying what is
    wrong. The size is checked before a byte is read; the content is read once, in chunks, and
    then parsed as the type it claims to be. A PDF with active content is refused, or with
    `remove_active_content` (the institution's choice) replaced by a copy without it. (Names
    as the client sent them are checked by UploadGuard.sent_names_check, before this.)"""
    size = upload.size or 0
    if size == 0:
        raise ValidationError(
            "The file is empty. Choose the file again, or save it again and upload it.",
            code="empty",
        )
    if size > max_size_bytes(document_type):
        raise too_large_error(document_type, size)
    original_name = original_name_clean(upload.name or "")

    digest = hashlib.sha256()
    head = tail = b""
    for chunk in upload.chunks():
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        tail = (tail + chunk)[-TAIL_BYTES:]
        digest.update(chunk)

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
    if MARKUP.search(head[:SNIFFED_BYTES]):
        raise ValidationError(
            "This file contains web page code (HTML or script) as well as a %(kind)s, which is "
            "how some attacks hide. Save the document again as a %(kind)s and upload the new "
            "file.",
            code="markup",
            params={"kind": FileKind(kind).label},
        )
    if kind == FileKind.PDF:
        _pdf_check(upload, tail)
        copy = _pdf_active_content_check(upload, original_name, remove_active_content)
        if copy is not None:
            return CheckedUpload(
                file=copy,
                original_name=original_name,
                size=copy.size,
                content_type=MIME_TYPE_BY_KIND[kind],
                sha256=_sha256(copy),
                original_sha256=digest.hexdigest(),
            )
    else:
        _image_check(upload, kind, tail)
    upload.seek(0)
    return CheckedUpload(
        file=upload,
        original_name=original_name,
        size=size,
        content_type=MIME_TYPE_BY_KIND[kind],
        sha256=digest.hexdigest(),
    )


class StorageFailed(ValidationError):
    """An upload passed its checks but could not be stored: the person is told to try again
    later (a 503, not their mistake)."""


def checked_upload_store(
    *,
    form: Any,
    guard: "UploadGuard",
    document_type: DocumentType,
    store: Callable[[CheckedUpload], T],
    what: str,
) -> T:
    """What an evidence upload view does once its guard is installed: the names as sent, the
    size as it streamed in, the bound `form` (its file in "file"), the file's own checks
    (document_upload_check, removing a PDF's active content if the institution chose so), then
    `store(checked)`. Raises ValidationError saying what to fix, or StorageFailed
    (logged with `what`, never the file's name) when the storage failed."""
    # Names first: a refused one may be one that Django dropped (such as "../").
    guard.sent_names_check()
    if guard.exceeded:
        raise too_large_error(document_type)
    if not form.is_valid():
        raise ValidationError([message for field in form.errors.values() for message in field])
    checked = document_upload_check(
        upload=form.cleaned_data["file"],
        document_type=document_type,
        remove_active_content=bool(
            tenant_connection.tenant.settings.get(REMOVE_PDF_ACTIVE_CONTENT)
        ),
    )
    try:
        return store(checked)
    except OSError as error:
        logger.error("Could not store %s (%s bytes): %r", what, checked.size, error, exc_info=error)
        raise StorageFailed(STORAGE_FAILED_MESSAGE, code="storage_failed") from error
    finally:
        checked.file.close()


def _sha256(file: File) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def enrollment_quota_check(*, enrollment: CohortEnrollment, size: int) -> None:
    """Refuse an upload that would take the enrolment's stored files (every version, except
    quarantined ones, which are deleted) past UPLOAD_ENROLLMENT_QUOTA_MB."""
    quota = enrollment_quota_bytes()
    used = (
        StudentDocument.objects.filter(enrollment=enrollment)
        .exclude(scan_status=ScanStatus.INFECTED)
        .aggregate(total=Sum("size"))["total"]
        or 0
    )
    if used + size > quota:
        raise ValidationError(
            "Your uploads for this enrolment would go past the %(quota)s allowed: you have "
            "uploaded %(used)s so far, and this file is %(size)s. Ask the institution for help "
            "if you need to upload more.",
            code="quota",
            params={
                "quota": filesizeformat(quota),
                "used": filesizeformat(used),
                "size": filesizeformat(size),
            },
        )


# --- Handing a stored file back ---------------------------------------------------------------


def _is_signed_url_storage(storage: Storage) -> bool:
    """Whether the storage gives signed, expiring URLs: S3-compatible storage
    (tenants.storage.TenantS3Storage) does, unless a custom domain without a CloudFront signer
    makes its URLs plain ones."""
    if not getattr(storage, "querystring_auth", False) or not hasattr(storage, "bucket_name"):
        return False
    return not getattr(storage, "custom_domain", None) or bool(
        getattr(storage, "cloudfront_signer", None)
    )


def stored_file_response(
    *, file: FieldFile, filename: str, content_type: str, as_attachment: bool = True
) -> HttpResponseBase:
    """A stored document for a person already checked to be allowed it. With S3-compatible
    storage: a redirect to a signed URL that expires within AWS_QUERYSTRING_EXPIRE, asking the
    storage to answer with our type and Content-Disposition. Otherwise: the file streamed by
    us. Either way the name in Content-Disposition is escaped (RFC 6266 / 5987) by Django, the
    type is the one we detected, and browsers are told not to sniff."""
    disposition = content_disposition_header(as_attachment, filename)
    if _is_signed_url_storage(file.storage):
        # S3Storage's url() takes these too; django-storages has no types, so Django's
        # Storage.url() is what mypy knows of.
        signing_storage: Any = file.storage
        url = signing_storage.url(
            file.name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-store",
            },
            expire=min(getattr(settings, "AWS_QUERYSTRING_EXPIRE", 300), 300),
        )
        response: HttpResponseBase = HttpResponseRedirect(url)
    else:
        response = FileResponse(
            file.open("rb"),
            as_attachment=as_attachment,
            filename=filename,
            content_type=content_type,
        )
        if as_attachment or content_type != "application/pdf":
            # Nothing in the file may run as a page of ours (browsers' PDF viewers do not work
            # in a sandbox, so a PDF shown inline goes without).
            response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
