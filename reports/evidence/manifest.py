"""The pack's manifest: a readable PDF table of every file with its SHA-256, the parts that
had nothing in them named, and the same list as JSON attached inside the PDF; the PDF is sealed
with the institution's certificate (signing.sealing.pdf_seal), so that changing the list, or
any file it lists, can be noticed. `manifest_check` is what the verify page asks."""

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

from signing.documents import html_to_pdf
from signing.models import InstitutionCertificate
from signing.sealing import SealCheck, pdf_seal, pdf_seal_check

MANIFEST_FORMAT = "cohortly-evidence-manifest/1"
MANIFEST_JSON_NAME = "manifest.json"


@dataclass(frozen=True)
class PackFile:
    path: str  # inside the ZIP
    part: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PackPart:
    key: str
    title: str
    empty_note: str  # what the manifest says when the part has no file


def manifest_json(
    *,
    pack_id: int,
    cohort_name: str,
    institution_name: str,
    created_at: str,
    files: list[PackFile],
    empty_parts: list[PackPart],
) -> bytes:
    return json.dumps(
        {
            "format": MANIFEST_FORMAT,
            "pack": pack_id,
            "institution": institution_name,
            "cohort": cohort_name,
            "created_at": created_at,
            "files": [
                {"path": f.path, "part": f.part, "size": f.size, "sha256": f.sha256} for f in files
            ],
            "empty_parts": [{"part": p.key, "note": p.empty_note} for p in empty_parts],
        },
        indent=2,
        ensure_ascii=False,
    ).encode()


def manifest_pdf(
    *,
    manifest: bytes,
    parts: list[PackPart],
    files: list[PackFile],
    context: dict[str, Any],
    certificate: InstitutionCertificate,
) -> bytes:
    """The sealed manifest PDF: the table a person reads, the JSON a program reads (attached,
    its SHA-256 printed too), one seal over both."""
    by_part = {part.key: [f for f in files if f.part == part.key] for part in parts}
    html = render_to_string(
        "reports/evidence/manifest_pdf.html",
        {
            **context,
            "sections": [(part, by_part[part.key]) for part in parts],
            "files_count": len(files),
            "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        },
    )
    document = html_to_pdf(html, attachments={MANIFEST_JSON_NAME: manifest})
    return pdf_seal(
        document, certificate=certificate, reason=f"Evidence pack of {context['cohort_name']}"
    )


def manifest_entries(pdf: bytes) -> dict[str, Any] | None:
    """The JSON list attached to a manifest PDF, or None when it carries none we made."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        for position in range(0, len(names), 2):
            if str(names[position]) != MANIFEST_JSON_NAME:
                continue
            spec = names[position + 1].get_object()
            stream = spec["/EF"].get("/F") or spec["/EF"].get("/UF")
            data = json.loads(stream.get_object().data)
            if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT:
                return data
    except Exception:  # noqa: S110 (any unreadable structure is "not our manifest")
        pass
    return None


@dataclass(frozen=True)
class ManifestCheck:
    ok: bool
    reason: str
    seal: SealCheck | None = None
    manifest: dict[str, Any] | None = None
    # With a file to check: whether it is listed, and as what.
    file_listed: bool | None = None
    file_reason: str = ""
    file_path: str = ""


def manifest_check(
    pdf: bytes,
    *,
    certificates: list[InstitutionCertificate],
    file_name: str = "",
    file_content: bytes | None = None,
) -> ManifestCheck:
    """Whether `pdf` is an intact manifest sealed by this institution and, given a file,
    whether that file is listed in it with the same SHA-256."""
    if not pdf.startswith(b"%PDF-"):
        return ManifestCheck(False, "The manifest is not a PDF.")
    seal = pdf_seal_check(pdf, certificates=certificates)
    if not seal.ok:
        if seal.reason == "The PDF carries no digital signature.":
            return ManifestCheck(
                False,
                "This PDF was not sealed by us: it is not a manifest of one of our evidence packs.",
                seal=seal,
            )
        return ManifestCheck(False, seal.reason, seal=seal)
    manifest = manifest_entries(pdf)
    if manifest is None:
        return ManifestCheck(
            False,
            "The PDF is sealed by this institution but is not an evidence pack's manifest.",
            seal=seal,
        )
    result = ManifestCheck(
        True,
        "The manifest is sealed by this institution and unchanged.",
        seal=seal,
        manifest=manifest,
    )
    if file_content is None:
        return result
    digest = hashlib.sha256(file_content).hexdigest()
    for entry in manifest["files"]:
        if entry["sha256"] == digest:
            return ManifestCheck(
                True,
                result.reason,
                seal=seal,
                manifest=manifest,
                file_listed=True,
                file_path=entry["path"],
                file_reason=f"The file is listed in the manifest as {entry['path']}, with the "
                "same SHA-256: it is the file the pack was built with.",
            )
    base = file_name.rsplit("/", 1)[-1]
    same_name = [e for e in manifest["files"] if e["path"].rsplit("/", 1)[-1] == base]
    reason = (
        f"The file differs from {same_name[0]['path']} in the manifest (another SHA-256): it "
        "was changed after the pack was built."
        if base and same_name
        else "The file is not part of this pack: no file in the manifest has its SHA-256."
    )
    # The manifest itself is genuine: the page says so, and that this file is not in it.
    return ManifestCheck(
        True,
        result.reason,
        seal=seal,
        manifest=manifest,
        file_listed=False,
        file_path=same_name[0]["path"] if base and same_name else "",
        file_reason=reason,
    )
