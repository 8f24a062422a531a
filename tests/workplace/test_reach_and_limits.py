"""Who reaches portfolios beyond the learner, who may not assess them, and the limits that keep
evidence and PDFs bounded."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.services import role_create
from cohorts.services import cohort_reviewer_set
from tests.factories import CohortFactory, UserFactory
from tests.workplace.support import registered, workplace_world
from tests.workplace.test_assessing import handed_in
from tests.workplace.test_logbook import LAST_MONDAY, checked_png, log, running
from workplace.models import (
    LogbookEvidence,
    Mentorship,
    ModerationItem,
    ModerationSample,
    ObservationReport,
    PortfolioEvidence,
    PractitionerRole,
)
from workplace.services import logbook as logbook_services
from workplace.services import portfolios as portfolio_services
from workplace.services.exports import portfolio_export
from workplace.services.logbook import entry_evidence_add
from workplace.services.moderation import sample_complete, sample_draw, sample_verdict_record
from workplace.services.portfolios import portfolio_assess, portfolio_reopen

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return workplace_world(admin)


@pytest.fixture
def coordinator_role(super_admin):
    return role_create(
        actor=super_admin,
        name="Delivery coordinator",
        description="Sets up delivery in the cohorts they are given.",
        permission_codes=["delivery.manage_delivery"],
    )


def _coordinator(role, admin, cohort):
    """Someone who manages delivery in `cohort` only."""
    person = UserFactory(roles=["verifier", role])
    cohort_reviewer_set(cohort=cohort, actor=admin, reviewer=person, allowed=True)
    return person


def test_staff_limited_to_other_cohorts_do_not_reach_the_portfolio_or_its_pdf(
    world, admin, coordinator_role, client_of
):
    portfolio = handed_in(world)
    elsewhere = client_of(_coordinator(coordinator_role, admin, CohortFactory(active=True)))
    here = client_of(_coordinator(coordinator_role, admin, world.run.cohort))
    pdf = reverse("workplace:portfolio_pdf", args=[world.learner.course_enrollment.pk])

    assert elsewhere.get(portfolio.get_absolute_url()).status_code == 404
    assert elsewhere.get(pdf).status_code == 404
    assert here.get(portfolio.get_absolute_url()).status_code == 200
    assert here.get(pdf).status_code == 200


def test_reopening_a_moderated_result_makes_the_next_one_wait_for_moderation(world):
    portfolio = handed_in(world)
    portfolio_assess(
        actor=world.assessor, portfolio=portfolio, decision="not_yet_competent", feedback="More."
    )
    portfolio.refresh_from_db()
    portfolio.final_at = timezone.now()  # as a completed sample leaves it
    portfolio.save(update_fields=["final_at"])

    reopened = portfolio_reopen(actor=world.learner.user, portfolio=portfolio)

    assert reopened.final_at is None
    reopened.refresh_from_db()
    assert reopened.final_at is None
    assert not reopened.is_final


def test_a_past_mentor_and_the_author_of_an_observation_do_not_assess(world, admin):
    portfolio = handed_in(world)
    Mentorship.objects.filter(placement=world.learner.placement).update(
        mentor=world.assessor, ended_at=timezone.now()
    )
    with pytest.raises(ValidationError, match="mentor"):
        portfolio_assess(actor=world.assessor, portfolio=portfolio, decision="competent")

    author = UserFactory(roles=["assessor"])
    registered(author, PractitionerRole.ASSESSOR, world.programme)
    observation = ObservationReport.objects.create(
        placement=world.learner.placement,
        outcome=world.outcomes[0],
        observed_on=datetime.date(2027, 3, 9),
        report="Led the lesson well.",
        written_by=author,
    )
    PortfolioEvidence.objects.create(
        portfolio=portfolio, kind="observation", observation=observation, title="Observation"
    )
    with pytest.raises(ValidationError, match="wrote or confirmed"):
        portfolio_assess(actor=author, portfolio=portfolio, decision="competent")
    assert portfolio_services.assessor_conflict(world.moderator, portfolio) == ""


def test_a_learner_of_the_run_does_not_moderate_it(world, admin):
    portfolio = handed_in(world)
    portfolio_assess(actor=world.assessor, portfolio=portfolio, decision="competent")
    [other] = world.learners_add(1, mentored=False)
    other.user.roles.add(*world.moderator.roles.all())
    registered(other.user, PractitionerRole.MODERATOR, world.programme)
    with pytest.raises(ValidationError, match="learner of this course run"):
        sample_draw(
            actor=admin, course_run=world.run, assessor=world.assessor, moderator=other.user
        )
    assert not ModerationSample.objects.exists()
    assert not ModerationItem.objects.exists()


def test_evidence_files_are_bounded_per_entry_and_per_portfolio(admin, media, monkeypatch):
    world = running(workplace_world(admin))
    entry = log(world.learner, LAST_MONDAY)
    monkeypatch.setattr(logbook_services, "MAX_FILES_PER_ENTRY", 2)
    for _ in range(2):
        entry_evidence_add(
            actor=world.learner.user, entry=entry, checked=checked_png(), scan_status="not_scanned"
        )
    with pytest.raises(ValidationError, match="at most 2 files"):
        entry_evidence_add(
            actor=world.learner.user, entry=entry, checked=checked_png(), scan_status="not_scanned"
        )
    assert LogbookEvidence.objects.filter(entry=entry).count() == 2

    portfolio = portfolio_services.portfolio_open(
        actor=world.learner.user,
        course_enrollment=world.learner.course_enrollment,
        outcome=world.outcomes[0],
    )
    monkeypatch.setattr(portfolio_services, "MAX_DOCUMENTS", 1)
    portfolio_services.evidence_add_document(
        actor=world.learner.user,
        portfolio=portfolio,
        checked=checked_png(),
        scan_status="not_scanned",
    )
    with pytest.raises(ValidationError, match="at most 1 documents"):
        portfolio_services.evidence_add_document(
            actor=world.learner.user,
            portfolio=portfolio,
            checked=checked_png(),
            scan_status="not_scanned",
        )
    assert portfolio.evidence.count() == 1
    assert len([path for path in media.rglob("*") if path.is_file()]) == 3


def test_the_pdf_is_rate_limited_per_person(world, client_of, media):
    from workplace.views.exports import EXPORT_RATE

    client = client_of(world.learner.user)
    url = reverse("workplace:portfolio_pdf", args=[world.learner.course_enrollment.pk])
    allowed = int(EXPORT_RATE.split("/")[0])
    for _ in range(allowed):
        assert client.post(url).status_code == 200
    limited = client.post(url)
    assert limited.status_code == 429
    assert "several times in the last hour" in limited.content.decode()


def test_a_decision_being_moderated_is_not_reopened_until_moderation_ends(world, admin):
    portfolio = handed_in(world)
    portfolio_assess(
        actor=world.assessor, portfolio=portfolio, decision="not_yet_competent", feedback="More."
    )
    sample = sample_draw(
        actor=admin, course_run=world.run, assessor=world.assessor, moderator=world.moderator
    )
    with pytest.raises(ValidationError, match="once moderation is complete"):
        portfolio_reopen(actor=world.learner.user, portfolio=portfolio)

    [item] = sample.items.all()
    sample_verdict_record(actor=world.moderator, item=item, verdict="agreed")
    sample_complete(actor=world.moderator, sample=sample)
    reopened = portfolio_reopen(actor=world.learner.user, portfolio=portfolio)
    assert reopened.status == "draft"


def test_an_open_samples_verdict_is_not_shown_as_settled(world, admin, client_of, media):
    portfolio = handed_in(world)
    portfolio_assess(actor=world.assessor, portfolio=portfolio, decision="competent")
    sample = sample_draw(
        actor=admin, course_run=world.run, assessor=world.assessor, moderator=world.moderator
    )
    sample_verdict_record(
        actor=world.moderator,
        item=sample.items.get(),
        verdict="changed",
        moderated_decision="not_yet_competent",
        reasons="The lesson plan is missing.",
    )

    page = client_of(world.learner.user).get(portfolio.get_absolute_url()).content.decode()
    assert "a moderator is checking this decision" in page
    assert "The lesson plan is missing." not in page

    export = portfolio_export(
        actor=world.learner.user, course_enrollment=world.learner.course_enrollment
    )
    with export.pdf.open("rb") as stored:
        text = " ".join(
            " ".join((page.extract_text() or "").split()) for page in PdfReader(stored).pages
        )
    assert "being moderated" in text
    assert "awaiting moderation" in text.lower()
    assert "The lesson plan is missing." not in text


def test_an_assessor_opens_a_portfolio_only_once_it_is_handed_in(world, client_of):
    draft = portfolio_services.portfolio_open(
        actor=world.learner.user,
        course_enrollment=world.learner.course_enrollment,
        outcome=world.outcomes[1],
    )
    handed = handed_in(world)
    assessor = client_of(world.assessor)
    assert assessor.get(draft.get_absolute_url()).status_code == 404
    assert assessor.get(handed.get_absolute_url()).status_code == 200
