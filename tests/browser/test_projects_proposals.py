"""A learner proposes a project: starts a draft, types and sees it saved, reloads and finds the
text kept, is told when the dates are the wrong way round, tries to submit with a part missing
and is shown what, completes and submits it, and finds it in My projects as submitted. A
rejected proposal is revised from My projects and submitted again as submission 2."""

import datetime

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from enrolments.models import CohortEnrollment
from learners.models import Learner
from projects.models import InnovationProject, ProjectStatus, ProjectStatusChange
from tests.browser.support import PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.projects.support import project_world

pytestmark = pytest.mark.browser


def _autosaved(page: Page, action) -> None:
    """Do `action` (typing) and wait for the autosave it sets off to answer."""
    with page.expect_response(lambda response: "/autosave/" in response.url):
        action()


def test_a_learner_drafts_and_submits_and_revises_a_rejected_proposal(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("proposing")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = project_world(admin)
        learner = world.learner
        CohortEnrollment.objects.create(
            cohort=world.cohort, user=learner, learner=Learner.objects.get(user=learner)
        )
        rejected = world.project(
            title="Rooftop gardens",
            status=ProjectStatus.REJECTED,
            start_date=datetime.date(2027, 3, 1),
            end_date=datetime.date(2027, 8, 31),
        )
        ProjectStatusChange.objects.create(
            project=rejected,
            round=1,
            from_status=ProjectStatus.IN_REVIEW,
            to_status=ProjectStatus.REJECTED,
            reason="Say who looks after the gardens in the holidays.",
            actor=admin,
        )
    checker = PageChecker(page, "proposal", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    sign_in(page, url("/accounts/login/"), learner.email, FACTORY_PASSWORD)
    page.goto(url(reverse("projects:my_projects")))
    expect(page.get_by_role("heading", name="My projects")).to_be_visible()
    checker.look("my-projects-rejected")

    # A new proposal: a title starts the draft.
    page.get_by_role("link", name="Propose a project").click()
    expect(page.get_by_role("heading", name="Propose a project")).to_be_visible()
    checker.look("new")
    page.get_by_label("Title").fill("Solar kiosks for taxi ranks")
    page.get_by_label("Kind").select_option("venture")
    page.get_by_role("button", name="Start the draft").click()
    expect(page.get_by_text("Your draft is started")).to_be_visible()
    checker.look("edit")

    # Typing is saved.
    _autosaved(
        page,
        lambda: page.get_by_label("Description").fill("Phone charging where commuters wait."),
    )
    expect(page.get_by_test_id("autosave-status")).to_contain_text("Draft saved at")
    _autosaved(
        page, lambda: page.get_by_label("Problem statement").fill("Commuters' phones run flat.")
    )
    _autosaved(page, lambda: page.get_by_label("Objectives").fill("Build and run two kiosks."))

    # Dates the wrong way round: told beside the field, the rest still saved.
    _autosaved(page, lambda: page.get_by_label("Start date").fill("2027-09-30"))
    _autosaved(page, lambda: page.get_by_label("End date").fill("2027-03-01"))
    expect(page.get_by_text("The end date comes before the start date.")).to_be_visible()
    checker.look("edit-dates-wrong")
    _autosaved(page, lambda: page.get_by_label("Start date").fill("2027-03-01"))
    _autosaved(page, lambda: page.get_by_label("End date").fill("2027-09-30"))
    expect(page.get_by_text("The end date comes before the start date.")).to_be_hidden()

    # Reloaded, the text is there.
    page.reload()
    expect(page.get_by_label("Description")).to_have_value("Phone charging where commuters wait.")
    expect(page.get_by_label("Objectives")).to_have_value("Build and run two kiosks.")
    expect(page.get_by_label("End date")).to_have_value("2027-09-30")

    # Submitting with a part missing shows what.
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("missing-fields")).to_contain_text("Expected outcomes")
    expect(page.get_by_role("button", name="Submit for review")).to_have_count(0)
    checker.look("submit-missing")
    page.get_by_test_id("missing-fields").get_by_role("link", name="Expected outcomes").click()
    _autosaved(page, lambda: page.get_by_label("Expected outcomes").fill("Fifty charges a day."))
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("This is what the review panel")).to_be_visible()
    checker.look("submit")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Your proposal is submitted for review")).to_be_visible()
    card = page.get_by_role("region", name="Solar kiosks for taxi ranks")
    expect(card.get_by_text("Submitted", exact=True)).to_be_visible()
    checker.look("my-projects-submitted")

    # The rejected proposal: see why, revise, submit again.
    page.get_by_role("link", name="Rejected: see why and revise").click()
    expect(page.get_by_text("Say who looks after the gardens in the holidays.")).to_be_visible()
    checker.look("revise")
    page.get_by_role("button", name="Revise the proposal").click()
    expect(page.get_by_text("it will be submission 2")).to_be_visible()
    expect(page.get_by_test_id("returned-reason")).to_contain_text("holidays")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Your proposal is submitted for review")).to_be_visible()
    card = page.get_by_role("region", name="Rooftop gardens")
    expect(card.get_by_text("submission 2")).to_be_visible()
    with tenant_context(institution):
        kiosks = InnovationProject.objects.get(title="Solar kiosks for taxi ranks")
        rejected.refresh_from_db()
    assert (kiosks.status, kiosks.round) == (ProjectStatus.SUBMITTED, 1)
    assert (rejected.status, rejected.round) == (ProjectStatus.SUBMITTED, 2)
    checker.assert_clean()


def test_a_draft_is_deleted_after_asking_and_another_learner_cannot_open_one(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("deleting")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = project_world(admin)
        kept = world.project(title="Rooftop gardens")
        dropped = world.project(title="Bicycle repairs")
    checker = PageChecker(page, "proposal-delete", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    sign_in(page, url("/accounts/login/"), world.other_learner.email, FACTORY_PASSWORD)
    page.goto(url(reverse("projects:proposal_edit", args=[kept.pk])))
    expect(page.get_by_role("heading", name="We couldn't find that page")).to_be_visible()
    page.goto(url(reverse("projects:my_projects")))
    expect(page.get_by_test_id("no-projects")).to_contain_text("An innovation project is")
    checker.look("my-projects-empty")

    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), world.learner.email, FACTORY_PASSWORD)
    page.goto(url(reverse("projects:proposal_edit", args=[dropped.pk])))
    page.get_by_role("link", name="Delete the draft").click()
    expect(page.get_by_role("heading", name="Delete the draft?")).to_be_visible()
    checker.look("confirm")
    page.get_by_role("link", name="Keep it").click()
    expect(page.get_by_label("Title")).to_have_value("Bicycle repairs")
    page.get_by_role("link", name="Delete the draft").click()
    page.get_by_role("button", name="Delete the draft").click()
    expect(page.get_by_text("The draft “Bicycle repairs” is deleted.")).to_be_visible()
    expect(page.get_by_role("region", name="Rooftop gardens")).to_be_visible()
    expect(page.get_by_role("region", name="Bicycle repairs")).to_have_count(0)
    with tenant_context(institution):
        assert not InnovationProject.objects.filter(pk=dropped.pk).exists()
    checker.assert_clean()
