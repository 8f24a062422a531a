"""A learner's portfolio of evidence for one course run as one PDF, for the quality council or
an external moderator: a cover, an index of the course's outcomes with each result and the page
each piece of evidence starts on, then per outcome its submissions and decisions, confirmed
logbook hours and evidence: logbook entries as a table, observation reports as text, and the
uploaded documents themselves (a PDF's pages appended, an image on a page of its own). A file
that may not be read (missing, removed by the virus scan, not scanned yet) is listed with the
reason instead. Sealing is workplace.services.exports'.

The page is rendered once with WeasyPrint: each page of an appended PDF is a blank page there,
so the index's page numbers (CSS target-counter) count it, and is then replaced by the
document's own page. User text is escaped by the template."""

import base64
import datetime
import functools
import io
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from academics.models import Outcome
from enrolments.models import ScanStatus
from workplace.models import (
    Decision,
    EvidenceKind,
    ModerationItem,
    PortfolioEvidence,
    PortfolioStatus,
    PortfolioSubmission,
)
from workplace.selectors.exports import OutcomePortfolio, PortfolioContents
from workplace.services.evidence import evidence_is_readable

logger = logging.getLogger(__name__)

MAX_EVIDENCE_BYTES = 100 * 1024 * 1024
MAX_PAGES = 500
PDF_TYPE = "application/pdf"
IMAGE_TYPES = {"image/png", "image/jpeg"}

WITHHELD_REASONS = {
    ScanStatus.INFECTED: "Withheld: the virus scan found a virus and the file was removed.",
    ScanStatus.SCANNING: "Withheld: the file is waiting for the virus scan.",
    ScanStatus.ERROR: "Withheld: the virus scan failed; the file waits for another scan.",
}
MISSING = "Withheld: the file is missing from storage."
NOT_A_PDF = "Withheld: the file could not be read as a PDF."
NOT_AN_IMAGE = "Withheld: the file could not be read as an image."
NOT_APPENDABLE = "Withheld: only PDF documents and JPEG or PNG images can be appended."


class PortfolioTooLarge(ValidationError):
    """The portfolio is more than one PDF may hold."""


@dataclass
class Piece:
    """One piece of evidence as the PDF shows it, numbered across the whole portfolio."""

    number: int
    evidence: PortfolioEvidence
    withheld: str = ""
    pdf: PdfReader | None = None
    image_src: str = ""

    @property
    def anchor(self) -> str:
        return f"evidence-{self.number}"

    @property
    def placeholders(self) -> list[str]:
        """The anchors of the blank pages the appended PDF's pages replace."""
        pages = len(self.pdf.pages) if self.pdf is not None else 0
        return [f"{self.anchor}-page-{page}" for page in range(pages)]


@dataclass
class Section:
    """One outcome: its result, history and evidence."""

    number: int
    item: OutcomePortfolio
    result: str
    standing: str
    decided: PortfolioSubmission | None
    history: list[tuple[PortfolioSubmission, ModerationItem | None]] = field(default_factory=list)
    entries: list[Piece] = field(default_factory=list)
    observations: list[Piece] = field(default_factory=list)
    documents: list[Piece] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        return self.item.outcome

    @property
    def anchor(self) -> str:
        return f"outcome-{self.number}"

    @property
    def moderation(self) -> ModerationItem | None:
        """The moderation of the decision the result is."""
        return moderation_of(self.decided) if self.decided is not None else None

    @property
    def pieces(self) -> list[Piece]:
        return [*self.entries, *self.observations, *self.documents]


@dataclass(frozen=True)
class RenderedPortfolio:
    pdf: bytes
    pages: int


def result_of(item: OutcomePortfolio) -> tuple[str, str, PortfolioSubmission | None]:
    """The outcome's result, whether it is final, and the submission whose decision it is."""
    portfolio = item.portfolio
    decided = next((s for s in reversed(item.submissions) if s.decision), None)
    if portfolio is None:
        return "Not started", "", None
    if portfolio.status == PortfolioStatus.DRAFT:
        return ("Being assembled again" if item.submissions else "Not started"), "", decided
    if portfolio.status == PortfolioStatus.SUBMITTED:
        return "Waiting for an assessor", "", decided
    label = PortfolioStatus(portfolio.status).label
    return label, ("Final" if portfolio.is_final else "Awaiting moderation"), decided


def moderation_of(submission: PortfolioSubmission) -> ModerationItem | None:
    try:
        item: ModerationItem = submission.moderation_item
    except ModerationItem.DoesNotExist:
        return None
    return item


def _withheld_reason(evidence: PortfolioEvidence) -> str:
    if evidence_is_readable(evidence):
        return ""
    return WITHHELD_REASONS.get(ScanStatus(evidence.scan_status), MISSING)


def _file_bytes(evidence: PortfolioEvidence) -> bytes | None:
    try:
        with evidence.file.open("rb") as stored:
            data: bytes = stored.read()
    except OSError as error:
        logger.warning("Portfolio evidence %s could not be read: %r", evidence.pk, error)
        return None
    return data


def _pdf_read(data: bytes) -> PdfReader | None:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        if not reader.pages:
            return None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        return None
    return reader


def _image_src(data: bytes, content_type: str) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return ""
    if kind not in ("PNG", "JPEG"):
        return ""
    return f"data:{content_type};base64," + base64.b64encode(data).decode()


def _document_prepare(piece: Piece) -> None:
    evidence = piece.evidence
    piece.withheld = _withheld_reason(evidence)
    if piece.withheld:
        return
    content_type = evidence.content_type
    if content_type != PDF_TYPE and content_type not in IMAGE_TYPES:
        piece.withheld = NOT_APPENDABLE
        return
    data = _file_bytes(evidence)
    if data is None:
        piece.withheld = MISSING
    elif content_type == PDF_TYPE:
        piece.pdf = _pdf_read(data)
        piece.withheld = "" if piece.pdf is not None else NOT_A_PDF
    else:
        piece.image_src = _image_src(data, content_type)
        piece.withheld = "" if piece.image_src else NOT_AN_IMAGE


def _too_large(message: str, **params: Any) -> PortfolioTooLarge:
    return PortfolioTooLarge(message, code="too_large", params=params)


def sections_of(contents: PortfolioContents) -> list[Section]:
    """Number the outcomes and their evidence, and read each document that is appended."""
    stored = sum(
        piece.size
        for item in contents.outcomes
        for piece in item.evidence
        if piece.kind == EvidenceKind.DOCUMENT
    )
    if stored > MAX_EVIDENCE_BYTES:
        raise _too_large(
            "The documents in this portfolio add up to %(size)s MB, more than the %(limit)s MB "
            "one PDF may hold. Ask the quality office for the files themselves.",
            size=round(stored / 1024 / 1024),
            limit=MAX_EVIDENCE_BYTES // 1024 // 1024,
        )
    sections: list[Section] = []
    counter = iter(range(1, 1_000_000))
    for number, item in enumerate(contents.outcomes, 1):
        result, standing, decided = result_of(item)
        section = Section(number, item, result, standing, decided)
        section.history = [(s, moderation_of(s)) for s in item.submissions]
        by_kind = {
            EvidenceKind.LOGBOOK_ENTRY: section.entries,
            EvidenceKind.OBSERVATION: section.observations,
            EvidenceKind.DOCUMENT: section.documents,
        }
        for kind, pieces in by_kind.items():
            for evidence in item.evidence:
                if evidence.kind == kind:
                    pieces.append(Piece(0, evidence))
        for piece in section.documents:
            _document_prepare(piece)
        # What is only listed comes before the pages appended after it.
        section.documents.sort(key=lambda piece: not piece.withheld)
        for piece in section.pieces:
            piece.number = next(counter)
        sections.append(section)
    appended = sum(len(piece.placeholders) for s in sections for piece in s.documents)
    if appended > MAX_PAGES:
        raise _too_large(
            "The documents in this portfolio have %(pages)s pages, more than the %(limit)s "
            "one PDF may hold. Ask the quality office for the files themselves.",
            pages=appended,
            limit=MAX_PAGES,
        )
    return sections


def portfolio_html(
    contents: PortfolioContents,
    sections: list[Section],
    *,
    institution: str,
    produced_on: datetime.date,
) -> str:
    course_enrollment = contents.course_enrollment
    return render_to_string(
        "workplace/exports/pdf/portfolio.html",
        {
            "institution": institution,
            "produced_on": produced_on,
            "course_enrollment": course_enrollment,
            "learner": course_enrollment.enrollment.learner,
            "course": course_enrollment.course,
            "programme": course_enrollment.course.programme,
            "run": course_enrollment.course_run,
            "placements": contents.placements,
            "mentorships": contents.mentorships,
            "sections": sections,
            "decisions": Decision,
        },
    )


@functools.cache
def _font_config() -> Any:
    from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

    return FontConfiguration()


def _appended_page_strip(page: Any) -> None:
    """Nothing on an appended page acts by itself: no actions, no annotations (links, forms)."""
    for key in ("/AA", "/Annots"):
        if key in page:
            del page[key]


def portfolio_pdf(
    contents: PortfolioContents, *, institution: str, produced_on: datetime.date
) -> RenderedPortfolio:
    """The portfolio's PDF, unsealed. Raises PortfolioTooLarge past MAX_EVIDENCE_BYTES of
    documents or MAX_PAGES pages."""
    from weasyprint import HTML

    sections = sections_of(contents)
    html = portfolio_html(contents, sections, institution=institution, produced_on=produced_on)
    document = HTML(string=html).render(font_config=_font_config())
    if len(document.pages) > MAX_PAGES:
        raise _too_large(
            "This portfolio would make a PDF of %(pages)s pages, more than the %(limit)s one "
            "PDF may hold. Ask the quality office for the files themselves.",
            pages=len(document.pages),
            limit=MAX_PAGES,
        )
    replaced: dict[str, Any] = {}
    for section in sections:
        for piece in section.documents:
            if piece.pdf is not None:
                replaced |= dict(zip(piece.placeholders, piece.pdf.pages, strict=True))
    replacements: dict[int, Any] = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor in replaced:
                replacements[index] = replaced[anchor]
    if len(replacements) != len(replaced):
        raise RuntimeError("An appended document's pages were not laid out one per page.")
    rendered = PdfReader(io.BytesIO(document.write_pdf()))
    writer = PdfWriter()
    for index, page in enumerate(rendered.pages):
        if index in replacements:
            _appended_page_strip(writer.add_page(replacements[index]))
        else:
            writer.add_page(page)
    writer.add_metadata({"/Title": "Portfolio of evidence", "/Producer": institution})
    output = io.BytesIO()
    writer.write(output)
    return RenderedPortfolio(pdf=output.getvalue(), pages=len(writer.pages))
