"""The learner's portfolios: the overview of their outcomes with hours, opening one, adding
evidence of the three kinds (only what is theirs, confirmed and for this outcome), removing
evidence not handed in, handing in and reopening; other people's portfolios are not found."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from enrolments.models import ScanStatus
from tests.files import PDF_BYTES
from tests.workplace.support import week_logged, workplace_world
from workplace.models import (
    EvidenceKind,
    LogbookWeekStatus,
    ObservationReport,
    Portfolio,
    PortfolioEvidence,
    PortfolioStatus,
)
from workplace.services.portfolios import (
    evidence_add_entry,
    evidence_add_observation,
    evidence_remove,
    portfolio_assess,
    portfolio_open,
    portfolio_reopen,
    portfolio_submit,
)

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2027, 3, 8)


def opened(world, outcome=None, placed=None) -> Portfolio:
    placed = placed or world.learner
    return portfolio_open(
        actor=placed.user,
        course_enrollment=placed.course_enrollment,
        outcome=outcome or world.outcomes[0],
    )


def confirmed_entry(world, placed=None, outcomes=None, monday=MONDAY):
    week = week_logged(
        placed or world.learner,
        monday,
        status=LogbookWeekStatus.CONFIRMED,
        days=1,
        outcomes=outcomes if outcomes is not None else [world.outcomes[0]],
    )
    return week.entries.get()


def text(response) -> str:
    return " ".join(response.content.decode().split())


def test_opening_is_get_or_create_and_audited_once(admin):
    world = workplace_world(admin)
    first = opened(world)
    again = opened(world)
    assert first == again
    assert first.status == PortfolioStatus.DRAFT
    assert AuditEvent.objects.filter(action="workplace.portfolio_open").count() == 1


def test_only_the_learner_opens_their_portfolio_for_their_course(admin):
    world = workplace_world(admin, learners=2)
    other = world.placed[1]
    with pytest.raises(PermissionDenied):
        portfolio_open(
            actor=other.user,
            course_enrollment=world.learner.course_enrollment,
            outcome=world.outcomes[0],
        )
    world.outcomes[2].is_active = False
    world.outcomes[2].save()
    with pytest.raises(ValidationError):
        opened(world, world.outcomes[2])


def test_evidence_from_the_logbook_must_be_confirmed_own_and_for_the_outcome(admin):
    world = workplace_world(admin, learners=2)
    portfolio = opened(world)
    entry = confirmed_entry(world)
    evidence = evidence_add_entry(actor=world.learner.user, portfolio=portfolio, entry=entry)
    assert evidence.kind == EvidenceKind.LOGBOOK_ENTRY
    assert evidence.submission is None
    with pytest.raises(ValidationError, match="already"):
        evidence_add_entry(actor=world.learner.user, portfolio=portfolio, entry=entry)
    open_week = week_logged(
        world.learner, MONDAY + datetime.timedelta(days=7), days=1, outcomes=[world.outcomes[0]]
    )
    other_outcome = confirmed_entry(
        world, outcomes=[world.outcomes[1]], monday=MONDAY + datetime.timedelta(days=14)
    )
    someone_elses = confirmed_entry(world, placed=world.placed[1])
    for refused in (open_week.entries.get(), other_outcome, someone_elses):
        with pytest.raises(ValidationError):
            evidence_add_entry(actor=world.learner.user, portfolio=portfolio, entry=refused)
    with pytest.raises(PermissionDenied):
        evidence_add_entry(actor=world.placed[1].user, portfolio=portfolio, entry=someone_elses)


def test_observation_reports_about_the_learner_for_the_outcome(admin):
    world = workplace_world(admin)
    portfolio = opened(world)
    about = ObservationReport.objects.create(
        placement=world.learner.placement,
        outcome=world.outcomes[0],
        observed_on=MONDAY,
        report="Managed the class well.",
        written_by=world.mentor,
    )
    other = ObservationReport.objects.create(
        placement=world.learner.placement,
        outcome=world.outcomes[1],
        observed_on=MONDAY,
        report="Read aloud.",
        written_by=world.mentor,
    )
    evidence = evidence_add_observation(
        actor=world.learner.user, portfolio=portfolio, observation=about
    )
    assert evidence.kind == EvidenceKind.OBSERVATION
    with pytest.raises(ValidationError):
        evidence_add_observation(actor=world.learner.user, portfolio=portfolio, observation=other)


def test_submitting_numbers_the_hand_in_and_freezes_its_evidence(admin):
    world = workplace_world(admin)
    portfolio = opened(world)
    with pytest.raises(ValidationError, match="at least one"):
        portfolio_submit(actor=world.learner.user, portfolio=portfolio)
    evidence = evidence_add_entry(
        actor=world.learner.user, portfolio=portfolio, entry=confirmed_entry(world)
    )
    submission = portfolio_submit(actor=world.learner.user, portfolio=portfolio)
    assert submission.number == 1
    evidence.refresh_from_db()
    portfolio.refresh_from_db()
    assert evidence.submission == submission
    assert portfolio.status == PortfolioStatus.SUBMITTED
    with pytest.raises(ValidationError):
        evidence_remove(actor=world.learner.user, portfolio=portfolio, evidence=evidence)
    portfolio_assess(
        actor=world.assessor, portfolio=portfolio, decision="not_yet_competent", feedback="More."
    )
    portfolio_reopen(actor=world.learner.user, portfolio=portfolio)
    portfolio.refresh_from_db()
    with pytest.raises(ValidationError, match="earlier submission"):
        evidence_remove(actor=world.learner.user, portfolio=portfolio, evidence=evidence)
    assert PortfolioEvidence.objects.filter(pk=evidence.pk).exists()


def test_evidence_not_handed_in_is_removed_after_a_confirmation(admin, client_of):
    world = workplace_world(admin)
    portfolio = opened(world)
    evidence = evidence_add_entry(
        actor=world.learner.user, portfolio=portfolio, entry=confirmed_entry(world)
    )
    client = client_of(world.learner.user)
    url = reverse("workplace:portfolio_evidence_remove", args=[portfolio.pk, evidence.pk])
    assert "Remove this evidence?" in text(client.get(url))
    assert client.post(url).status_code == 302
    assert not PortfolioEvidence.objects.filter(pk=evidence.pk).exists()


def test_the_overview_shows_each_outcome_with_status_and_confirmed_hours(admin, client_of):
    world = workplace_world(admin)
    week_logged(
        world.learner, MONDAY, status=LogbookWeekStatus.CONFIRMED, outcomes=[world.outcomes[0]]
    )
    portfolio = opened(world, world.outcomes[1])
    client = client_of(world.learner.user)
    response = client.get(reverse("workplace:my_portfolios"))
    assert response.status_code == 200
    page = text(response)
    assert "37.5 confirmed hours" in page
    assert "Not started" in page
    assert "Being assembled" in page
    assert reverse("workplace:portfolio", args=[portfolio.pk]) in response.content.decode()


def test_a_decided_result_awaits_moderation_until_final(admin, client_of):
    world = workplace_world(admin)
    portfolio = opened(world)
    evidence_add_entry(actor=world.learner.user, portfolio=portfolio, entry=confirmed_entry(world))
    portfolio_submit(actor=world.learner.user, portfolio=portfolio)
    portfolio_assess(actor=world.assessor, portfolio=portfolio, decision="competent")
    client = client_of(world.learner.user)
    assert "Awaiting moderation" in text(client.get(reverse("workplace:my_portfolios")))
    Portfolio.objects.filter(pk=portfolio.pk).update(final_at=datetime.datetime.now(datetime.UTC))
    assert "Final" in text(client.get(reverse("workplace:my_portfolios")))


def test_the_learner_opens_adds_and_submits_through_the_pages(admin, client_of, media):
    world = workplace_world(admin)
    entry = confirmed_entry(world)
    client = client_of(world.learner.user)
    response = client.post(
        reverse(
            "workplace:portfolio_open",
            args=[world.learner.course_enrollment.pk, world.outcomes[0].pk],
        )
    )
    portfolio = Portfolio.objects.get()
    assert response["Location"] == reverse("workplace:portfolio", args=[portfolio.pk])
    add_url = reverse("workplace:portfolio_evidence_add", args=[portfolio.pk])
    assert client.post(add_url, {"kind": "entry", "entry": entry.pk}).status_code == 302
    response = client.post(
        add_url,
        {
            "kind": "document",
            "title": "Lesson plan",
            "file": SimpleUploadedFile("plan.pdf", PDF_BYTES),
        },
    )
    assert response.status_code == 302
    document = PortfolioEvidence.objects.get(kind=EvidenceKind.DOCUMENT)
    assert document.title == "Lesson plan"
    assert document.file.name.startswith("workplace/portfolioevidence/")
    assert document.scan_status == ScanStatus.NOT_SCANNED
    file_url = reverse("workplace:portfolio_evidence_file", args=[document.pk])
    assert client.get(file_url).status_code == 200
    refused = client.post(
        add_url, {"kind": "document", "file": SimpleUploadedFile("page.html", b"<html></html>")}
    )
    assert refused.status_code == 400
    submit_url = reverse("workplace:portfolio_submit", args=[portfolio.pk])
    assert "Hand in the portfolio?" in text(client.get(submit_url))
    assert client.post(submit_url).status_code == 302
    portfolio.refresh_from_db()
    assert portfolio.status == PortfolioStatus.SUBMITTED
    assert portfolio.evidence.filter(submission__number=1).count() == 2
    # The assessor reaches the file of a portfolio in their scope.
    assert client_of(world.assessor).get(file_url).status_code == 200


def test_other_learners_portfolios_are_not_found(admin, client_of, media):
    world = workplace_world(admin, learners=2)
    portfolio = opened(world)
    evidence = evidence_add_entry(
        actor=world.learner.user, portfolio=portfolio, entry=confirmed_entry(world)
    )
    other = client_of(world.placed[1].user)
    for url in (
        reverse("workplace:portfolio", args=[portfolio.pk]),
        reverse("workplace:portfolio_evidence_add", args=[portfolio.pk]),
        reverse("workplace:portfolio_evidence_remove", args=[portfolio.pk, evidence.pk]),
        reverse("workplace:portfolio_submit", args=[portfolio.pk]),
    ):
        assert other.get(url).status_code == 404, url
    assert other.post(reverse("workplace:portfolio_submit", args=[portfolio.pk])).status_code == 404
    assert other.post(reverse("workplace:portfolio_reopen", args=[portfolio.pk])).status_code == 404
    assert (
        other.post(
            reverse(
                "workplace:portfolio_open",
                args=[world.learner.course_enrollment.pk, world.outcomes[1].pk],
            )
        ).status_code
        == 404
    )
    # Nor does the assessor, before it is handed in (and never to change it).
    assessor = client_of(world.assessor)
    assert assessor.get(reverse("workplace:portfolio", args=[portfolio.pk])).status_code == 404
    assert (
        assessor.post(reverse("workplace:portfolio_submit", args=[portfolio.pk])).status_code == 404
    )
    assert AuditEvent.objects.filter(action="permission.denied").exists()
    portfolio.refresh_from_db()
    assert portfolio.status == PortfolioStatus.DRAFT
