"""Course runs and sessions in Chromium: an admin opens a cohort's delivery page from its
dashboard, creates its runs from the programme's two courses in one action, gives one run a
weekly schedule (a public holiday skipped), and is refused a session that would book the
trainer twice, with the clash named. An admin of an institution that reports to the training
gateway sees a run's registration there and its learners' standing, and cancels the run with
a reason after a confirmation. Desktop and phone widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (runs-*.png)."""

import datetime
import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from delivery.models import CourseRun, CourseRunStatus, Session, SessionStatus
from delivery.services.runs import cohort_runs_create
from enrolments.services import enrollment_invite
from integrations.services import sync_jobs_sweep
from integrations.testing import FakeGateway
from tests.browser.support import PageChecker, sign_in
from tests.factories import CohortFactory, CourseFactory, ProgrammeFactory, TrainerFactory
from tests.integrations.conftest import configure

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]


@pytest.fixture
def cohort(site, make_institution, make_person):
    """An institution with a programme of two courses, a cohort of it with one learner, and a
    trainer."""
    institution = make_institution("runs")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        programme = ProgrammeFactory(name="Plumbing", code="PLB-NQF3")
        CourseFactory(programme=programme, code="PLB101", name="Pipework")
        CourseFactory(programme=programme, code="PLB102", name="Drainage")
        cohort = CohortFactory(
            active=True,
            name="Plumbing 2027",
            programme=programme,
            start_date=datetime.date(2027, 2, 1),
            end_date=datetime.date(2027, 11, 30),
        )
        enrollment_invite(
            cohort=cohort, actor=admin, email="sipho@example.org", full_name="Sipho Dlamini"
        )
        TrainerFactory(user__full_name="Thandi Trainer")
    return institution, admin, cohort


def test_an_admin_creates_a_cohorts_runs_and_a_weekly_schedule(page: Page, site, cohort):
    institution, admin, the_cohort = cohort
    checker = PageChecker(page, "runs", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)
    page.goto(site.institution(institution.code, f"/cohorts/{the_cohort.pk}/"))
    page.locator("#main").get_by_role("link", name="Delivery", exact=True).click()
    expect(page.get_by_role("heading", name="Delivery of Plumbing 2027")).to_be_visible()
    expect(page.get_by_text("No course runs yet.")).to_be_visible()
    checker.look("cohort-empty")

    page.get_by_label("Trainer").select_option(label="Thandi Trainer")
    page.get_by_label("Venue").fill("Workshop A")
    page.get_by_role("button", name="Create 2 course runs").click()
    expect(page.get_by_text("2 course runs created; 2 course enrolments made")).to_be_visible()
    runs = page.get_by_role("region", name="Course runs")
    expect(runs.get_by_role("link", name="PLB101 Pipework")).to_be_visible()
    expect(runs.get_by_role("link", name="PLB102 Drainage")).to_be_visible()
    checker.look("cohort-runs")

    runs.get_by_role("link", name="PLB101 Pipework").click()
    expect(page.get_by_role("heading", name=re.compile("PLB101 Pipework"))).to_be_visible()
    expect(page.get_by_text("Sipho Dlamini")).to_be_visible()
    checker.look("run")
    page.get_by_role("link", name="Weekly schedule").click()
    page.get_by_label("Monday").check()
    page.get_by_label("Wednesday").check()
    page.get_by_label("From").fill("2027-03-15")
    page.get_by_label("To").fill("2027-03-28")
    page.get_by_label("Start time").fill("09:00")
    page.get_by_label("End time").fill("12:00")
    checker.look("schedule-form")
    page.get_by_role("button", name="Schedule sessions").click()
    expect(
        page.get_by_text("3 sessions scheduled. Skipped: 22 Mar (Human Rights Day (observed)).")
    ).to_be_visible()
    sessions = page.get_by_role("region", name="Sessions")
    expect(sessions.get_by_text("Mon 15 Mar 2027")).to_be_visible()
    expect(sessions.get_by_text("Wed 24 Mar 2027")).to_be_visible()
    checker.look("run-scheduled")

    # The same trainer in the other run at an overlapping hour: refused, the clash named.
    page.get_by_role("link", name="Plumbing 2027").click()
    page.get_by_role("region", name="Course runs").get_by_role(
        "link", name="PLB102 Drainage"
    ).click()
    page.get_by_role("link", name="Add a session").click()
    page.get_by_label("Date").fill("2027-03-17")
    page.get_by_label("Start time").fill("11:00")
    page.get_by_label("End time").fill("13:00")
    page.get_by_role("button", name="Add session").click()
    expect(
        page.get_by_text(
            "Thandi Trainer already teaches PLB101 Pipework (Plumbing 2027) on "
            "Wed 17 Mar 2027, 09:00–12:00."
        )
    ).to_be_visible()
    checker.look("clash-refused")
    # An afternoon that is free is taken.
    page.get_by_label("Start time").fill("13:00")
    page.get_by_label("End time").fill("15:00")
    page.get_by_role("button", name="Add session").click()
    expect(page.get_by_text("Session added on 17 Mar 2027.")).to_be_visible()

    page.get_by_role("link", name="Plumbing 2027").click()
    page.goto(page.url.split("?")[0] + "?month=2027-03")
    expect(page.get_by_text("Closed: Human Rights Day (observed)")).to_be_visible()
    checker.look("cohort-calendar")
    checker.assert_clean()

    with tenant_context(institution):
        assert CourseRun.objects.filter(cohort=the_cohort).count() == 2
        assert Session.objects.filter(course_run__cohort=the_cohort).count() == 4


def test_an_admin_cancels_a_run_the_gateway_has(page: Page, site, cohort):
    institution, admin, the_cohort = cohort
    with FakeGateway() as gateway:
        with tenant_context(institution):
            configure(gateway, timeout_seconds=5)
            run = cohort_runs_create(actor=admin, cohort=the_cohort).runs[0]
            Session.objects.create(
                course_run=run,
                session_date=datetime.date(2027, 3, 1),
                start_time=datetime.time(9),
                end_time=datetime.time(12),
            )
            sync_jobs_sweep()
            run.refresh_from_db()
            reference = run.external_id
        checker = PageChecker(page, "runs-cancel", structure=True)
        sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)
        page.goto(site.institution(institution.code, f"/delivery/runs/{run.pk}/"))
        expect(page.get_by_test_id("run-gateway")).to_contain_text(f"Synced ({reference})")
        expect(
            page.get_by_text("Sipho Dlamini has not consented to sharing with the funding body.")
        ).to_be_visible()
        checker.look("run")

        page.get_by_role("link", name="Cancel run").click()
        expect(page.get_by_role("heading", name=re.compile("Cancel PLB101"))).to_be_visible()
        expect(page.get_by_text(f"cancel the run's registration ({reference})")).to_be_visible()
        page.get_by_role("button", name="Cancel the run").click()
        expect(page.get_by_text("This field is required.")).to_be_visible()
        checker.look("cancel-refused")
        page.get_by_label("Reason").fill("Too few learners signed up.")
        page.get_by_role("button", name="Cancel the run").click()
        expect(page.get_by_text("PLB101 is cancelled, with its sessions to come.")).to_be_visible()
        expect(page.get_by_role("link", name="Cancel run")).to_have_count(0)
        with tenant_context(institution):
            sync_jobs_sweep()
        page.reload()
        expect(page.get_by_test_id("run-gateway")).to_contain_text("Cancelled")
        expect(page.get_by_text("Too few learners signed up.").first).to_be_visible()
        checker.look("run-cancelled")
        checker.assert_clean()

        with tenant_context(institution):
            run.refresh_from_db()
            assert run.status == CourseRunStatus.CANCELLED
            assert not Session.objects.filter(
                course_run=run, status=SessionStatus.SCHEDULED
            ).exists()
        assert gateway.record("run", f"run-{run.pk}").status == "cancelled"
