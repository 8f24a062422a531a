"""The learner's portfolio of evidence for a course run as one sealed PDF: the cover and index,
index page numbers that name the page each item is on, a PDF document's own pages appended and
an image on a page of its own, withheld files listed with the reason, user text escaped; who may
produce it (anyone else gets the audited 404), its audit event, and its file removed when the
change does not commit."""

import datetime
import hashlib
import io
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import SystemRole
from accounts.permissions import ActionRefused
from audit.models import AuditEvent
from enrolments.models import ScanStatus
from signing.documents import html_to_pdf
from signing.models import InstitutionCertificate
from signing.sealing import pdf_seal_check
from tests.factories import ProgrammeFactory, UserFactory
from tests.files import png_bytes
from tests.workplace.support import Workplace, registered, week_logged, workplace_world
from workplace import portfolio_pdf as portfolio_pdf_module
from workplace.models import (
    Decision,
    EvidenceKind,
    LogbookWeekStatus,
    ModerationItem,
    ModerationSample,
    ObservationReport,
    Portfolio,
    PortfolioEvidence,
    PortfolioExport,
    PortfolioStatus,
    PortfolioSubmission,
    PractitionerRegistration,
    PractitionerRole,
    SampleStatus,
    Verdict,
)
from workplace.services import exports as exports_service
from workplace.services.exports import portfolio_export

MONDAY = datetime.date(2027, 3, 8)
TASKS = '<script>alert("x")</script> Taught fractions & decimals to Grade 9'
REPORT = "Explained <b>equivalent fractions</b> clearly; the class followed."
APPENDED_PAGES = 3


def appended_pdf() -> bytes:
    """A real PDF of three pages, each saying which it is."""
    pages = "".join(
        f'<p style="break-after: page">Lesson plan sheet {n} of {APPENDED_PAGES}</p>'
        for n in range(1, APPENDED_PAGES + 1)
    )
    return html_to_pdf(f"<html><body>{pages}</body></html>")


def _document(portfolio, submission, *, title, name, content_type, data, scan_status):
    evidence = PortfolioEvidence(
        portfolio=portfolio,
        kind=EvidenceKind.DOCUMENT,
        title=title,
        original_name=name,
        size=len(data),
        content_type=content_type,
        sha256=hashlib.sha256(data or b"gone").hexdigest(),
        scan_status=scan_status,
        submission=submission,
    )
    if scan_status != ScanStatus.INFECTED:
        evidence.file.save(name, ContentFile(data), save=False)
    evidence.save()
    return evidence


@dataclass
class Assembled:
    world: Workplace
    portfolio: Portfolio
    waiting: Portfolio

    @property
    def course_enrollment(self):
        return self.world.learner.course_enrollment


def portfolio_assembled(world: Workplace) -> Assembled:
    """The world's learner with a competent, moderated and final portfolio for the first
    outcome (a NYC submission, then a competent one), holding a logbook entry of a confirmed
    week, an observation report, a PDF, a PNG and an infected document; a portfolio waiting
    for an assessor for the second outcome; nothing for the third."""
    first, second, _third = world.outcomes
    placed = world.learner
    now = timezone.now()
    week = week_logged(placed, MONDAY, status=LogbookWeekStatus.CONFIRMED, days=1, outcomes=[first])
    week.reviewed_by, week.reviewed_at = world.mentor, now
    week.save(update_fields=["reviewed_by", "reviewed_at"])
    entry = week.entries.get()
    entry.tasks = TASKS
    entry.hours = Decimal("6.5")
    entry.save(update_fields=["tasks", "hours"])
    observation = ObservationReport.objects.create(
        placement=placed.placement,
        outcome=first,
        observed_on=MONDAY,
        report=REPORT,
        written_by=world.mentor,
    )
    portfolio = Portfolio.objects.create(
        course_enrollment=placed.course_enrollment,
        outcome=first,
        status=PortfolioStatus.COMPETENT,
        final_at=now,
    )
    registration = PractitionerRegistration.objects.get(user=world.assessor)
    decided = {
        "assessor": world.assessor,
        "assessor_registration": registration,
        "assessed_at": now,
        "submitted_by": placed.user,
        "submitted_at": now,
    }
    nyc = PortfolioSubmission.objects.create(
        portfolio=portfolio,
        number=1,
        decision=Decision.NOT_YET_COMPETENT,
        feedback="Add an observation <i>of a lesson</i>.",
        **decided,
    )
    competent = PortfolioSubmission.objects.create(
        portfolio=portfolio, number=2, decision=Decision.COMPETENT, **decided
    )
    PortfolioEvidence.objects.create(
        portfolio=portfolio,
        kind=EvidenceKind.LOGBOOK_ENTRY,
        title="Logbook entry of 8 March 2027",
        logbook_entry=entry,
        submission=nyc,
    )
    PortfolioEvidence.objects.create(
        portfolio=portfolio,
        kind=EvidenceKind.OBSERVATION,
        title="Observation of 8 March 2027",
        observation=observation,
        submission=competent,
    )
    _document(
        portfolio,
        nyc,
        title="Lesson plan",
        name="plan.pdf",
        content_type="application/pdf",
        data=appended_pdf(),
        scan_status=ScanStatus.CLEAN,
    )
    _document(
        portfolio,
        nyc,
        title="Photo of the board",
        name="board.png",
        content_type="image/png",
        data=png_bytes((600, 400)),
        scan_status=ScanStatus.NOT_SCANNED,
    )
    _document(
        portfolio,
        competent,
        title="Infected scan",
        name="scan.pdf",
        content_type="application/pdf",
        data=b"",
        scan_status=ScanStatus.INFECTED,
    )
    sample = ModerationSample.objects.create(
        course_run=world.run,
        assessor=world.assessor,
        moderator=world.moderator,
        moderator_registration=PractitionerRegistration.objects.get(user=world.moderator),
        share_percent=25,
        minimum=5,
        status=SampleStatus.COMPLETED,
        drawn_by=world.admin,
        drawn_at=now,
        completed_at=now,
    )
    ModerationItem.objects.create(
        sample=sample,
        submission=competent,
        in_sample=True,
        verdict=Verdict.AGREED,
        moderated_at=now,
    )
    waiting = Portfolio.objects.create(
        course_enrollment=placed.course_enrollment, outcome=second, status=PortfolioStatus.SUBMITTED
    )
    PortfolioSubmission.objects.create(
        portfolio=waiting, number=1, submitted_by=placed.user, submitted_at=now
    )
    return Assembled(world, portfolio, waiting)


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def index_of(texts: list[str]) -> dict[str, int]:
    """What the index names, each with its page: "Evidence 3" and outcome codes."""
    index = texts[1]
    assert index.startswith("Index") or "Index" in index.splitlines()[0]
    named = {
        match.group(1): int(match.group(2))
        for match in re.finditer(r"^(Evidence \d+):.*?(\d+)$", index, re.MULTILINE)
    }
    for match in re.finditer(r"^(\d{4,6}) .*?(\d+)$", index, re.MULTILINE):
        named.setdefault(match.group(1), int(match.group(2)))
    return named


@pytest.fixture
def assembled(admin, media) -> Assembled:
    return portfolio_assembled(workplace_world(admin, learners=2))


def _stored(export: PortfolioExport) -> bytes:
    with export.pdf.open("rb") as stored:
        return stored.read()


def test_the_learner_gets_a_sealed_pdf_whose_index_names_the_right_pages(assembled):
    export = portfolio_export(
        actor=assembled.world.learner.user, course_enrollment=assembled.course_enrollment
    )
    pdf = _stored(export)
    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == export.sha256
    assert pdf_seal_check(pdf, certificates=list(InstitutionCertificate.objects.all())).ok
    texts = pages_text(pdf)
    assert export.pages == len(texts)
    cover = texts[0]
    assert "Portfolio of evidence" in cover
    assert assembled.world.learner.learner.full_name in cover
    assert "Orlando West High School" in cover
    assert "Nomsa Mentor" in cover
    assert "WP101" in cover

    named = index_of(texts)
    assert {f"Evidence {n}" for n in range(1, 6)} <= set(named), texts[1]
    for name, page in named.items():
        assert page > 2, name
        on_page = texts[page - 1]
        marker = name if name.startswith("Evidence") else f"Outcome {name}"
        assert marker in on_page, f"{name} is not on page {page}: {on_page[:300]}"
    index = " ".join(texts[1].split())
    assert "Competent (final)" in index
    assert "Waiting for an assessor" in index
    assert "Not started" in index
    assert "Agreed by Mpho Moderator" in index


def test_a_pdf_documents_pages_follow_its_heading_and_an_image_has_a_page(assembled):
    export = portfolio_export(
        actor=assembled.world.admin, course_enrollment=assembled.course_enrollment
    )
    texts = pages_text(_stored(export))
    heading = next(n for n, text in enumerate(texts) if "Lesson plan" in text and n > 1)
    for sheet in range(1, APPENDED_PAGES + 1):
        assert f"Lesson plan sheet {sheet} of {APPENDED_PAGES}" in texts[heading + sheet]
    image_page = next(n for n, text in enumerate(texts) if "Photo of the board" in text and n > 1)
    assert image_page not in range(heading, heading + APPENDED_PAGES + 1)
    images = PdfReader(io.BytesIO(_stored(export))).pages[image_page].images
    assert len(images) == 1


def test_an_infected_document_is_listed_as_withheld_and_user_text_is_escaped(assembled):
    export = portfolio_export(
        actor=assembled.world.learner.user, course_enrollment=assembled.course_enrollment
    )
    text = "\n".join(pages_text(_stored(export)))
    assert "Infected scan" in text
    assert "Withheld: the virus scan found a virus and the file was removed." in text
    assert "(withheld)" in text
    # Shown as the text typed, not taken as markup.
    assert '<script>alert("x")</script>' in text
    assert "<b>equivalent fractions</b>" in text
    assert "<i>of a lesson</i>" in text
    assert "6.5" in text


def test_the_export_is_audited_without_personal_values(assembled):
    export = portfolio_export(
        actor=assembled.world.learner.user, course_enrollment=assembled.course_enrollment
    )
    [event] = AuditEvent.objects.filter(action="workplace.portfolio_exported")
    assert event.actor == assembled.world.learner.user
    assert event.entity_id == str(export.pk)
    assert event.new_values == {
        "course_enrollment": assembled.course_enrollment.pk,
        "sha256": export.sha256,
        "pages": export.pages,
    }


def test_the_learner_downloads_it_from_the_page_with_a_safe_name(assembled, client_of):
    client = client_of(assembled.world.learner.user)
    url = reverse("workplace:portfolio_pdf", args=[assembled.course_enrollment.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Download the sealed PDF" in page.content
    assert b"Produced before" not in page.content  # the list is staff's
    response = client.post(url)
    assert response.status_code == 200
    learner_id = assembled.world.learner.learner.pk
    assert response["Content-Disposition"] == (
        f'attachment; filename="portfolio-WP101-{learner_id}.pdf"'
    )
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF")
    export = PortfolioExport.objects.get()
    assert hashlib.sha256(body).hexdigest() == export.sha256


def test_staff_see_earlier_exports_with_their_hashes(assembled, client_of):
    export = portfolio_export(
        actor=assembled.world.learner.user, course_enrollment=assembled.course_enrollment
    )
    client = client_of(assembled.world.admin)
    page = client.get(reverse("workplace:portfolio_pdf", args=[assembled.course_enrollment.pk]))
    assert page.status_code == 200
    assert export.sha256.encode() in page.content


def test_the_assessor_and_the_sampling_moderator_may_produce_it(assembled, client_of):
    url = reverse("workplace:portfolio_pdf", args=[assembled.course_enrollment.pk])
    for user in (assembled.world.assessor, assembled.world.moderator):
        assert client_of(user).get(url).status_code == 200
    export = portfolio_export(
        actor=assembled.world.moderator, course_enrollment=assembled.course_enrollment
    )
    assert export.created_by == assembled.world.moderator


def test_others_get_the_audited_404(assembled, client_of):
    world = assembled.world
    url = reverse("workplace:portfolio_pdf", args=[assembled.course_enrollment.pk])
    other_learner = world.placed[1].user
    elsewhere = UserFactory(roles=[SystemRole.ASSESSOR])
    registered(elsewhere, PractitionerRole.ASSESSOR, ProgrammeFactory())
    unsampled = UserFactory(roles=[SystemRole.MODERATOR])
    registered(unsampled, PractitionerRole.MODERATOR, world.programme)
    for user in (other_learner, elsewhere, unsampled, world.mentor):
        client = client_of(user)
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
        with pytest.raises(ActionRefused):
            portfolio_export(actor=user, course_enrollment=assembled.course_enrollment)
    assert not PortfolioExport.objects.exists()
    assert (
        AuditEvent.objects.filter(
            action="permission.denied", entity_id="workplace.portfolio_export"
        ).count()
        == 4
    )
    missing = reverse("workplace:portfolio_pdf", args=[assembled.course_enrollment.pk + 1000])
    assert client_of(world.admin).get(missing).status_code == 404


def test_a_portfolio_too_large_for_one_pdf_is_refused_with_a_clear_message(
    assembled, client_of, monkeypatch
):
    monkeypatch.setattr(portfolio_pdf_module, "MAX_EVIDENCE_BYTES", 1024)
    with pytest.raises(ValidationError, match="more than the 0 MB one PDF may hold"):
        portfolio_export(
            actor=assembled.world.learner.user, course_enrollment=assembled.course_enrollment
        )
    monkeypatch.setattr(portfolio_pdf_module, "MAX_EVIDENCE_BYTES", 10**9)
    monkeypatch.setattr(portfolio_pdf_module, "MAX_PAGES", 4)
    response = client_of(assembled.world.learner.user).post(
        reverse("workplace:portfolio_pdf", args=[assembled.course_enrollment.pk])
    )
    assert response.status_code == 400
    assert b"more than the 4 one PDF may hold" in response.content
    assert not PortfolioExport.objects.exists()


def test_the_file_is_removed_when_the_change_does_not_commit(assembled, media, monkeypatch):
    def failing(**kwargs):
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(exports_service, "audit_record", failing)
    with pytest.raises(RuntimeError):
        portfolio_export(
            actor=assembled.world.learner.user, course_enrollment=assembled.course_enrollment
        )
    assert not PortfolioExport.objects.exists()
    assert not [path for path in media.rglob("*.pdf") if "portfolios" in str(path)]


def test_an_empty_portfolio_still_has_a_cover_and_an_index(admin, media):
    world = workplace_world(admin)
    export = portfolio_export(actor=admin, course_enrollment=world.learner.course_enrollment)
    texts = pages_text(_stored(export))
    assert "Index" in texts[1]
    assert " ".join(texts[1].split()).count("Not started") == 3
