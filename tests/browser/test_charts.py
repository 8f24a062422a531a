"""The charts in Chromium: an admin sees the enrolments per month on the start page, then a
cohort's progress funnel and weekly attendance on its page, each drawn by Chart.js with its
numbers one click away in a table; when the chart library cannot load, the tables stay open in
the charts' place. Desktop and phone widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (charts-*.png)."""

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from delivery.models import Trainer
from delivery.services.attendance import Mark, register_save
from enrolments.models import CohortEnrollment, EnrollmentState, VerificationState
from learners.models import Learner
from tests.browser.support import PHONE, PageChecker, sign_in
from tests.delivery.attendance.support import learners_enrol
from tests.factories import CohortFactory, CourseFactory, CourseRunFactory, SessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

NAMES = ["Sipho Dlamini", "Lerato Khumalo", "Thandi Mokoena", "Ayanda Nkosi", "Pieter van Wyk"]
# Each week's register, one status per learner: 80%, 60%, 100%, 40%.
WEEKS = [
    ["present", "present", "late", "present", "absent"],
    ["present", "absent", "present", "late", "absent"],
    ["present"] * 5,
    ["absent", "absent", "present", "late", "absent"],
]


@pytest.fixture
def cohort_under_way(site, make_institution, make_person):
    """An institution with a cohort of five learners at different steps, and four weekly
    registers of its course run taken."""
    institution = make_institution("charts")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    trainer_user = make_person(institution, SystemRole.TRAINER, name="Tumi Trainer")
    with tenant_context(institution):
        trainer = Trainer.objects.create(user=trainer_user, name=trainer_user.full_name)
        monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
        first = monday - datetime.timedelta(weeks=len(WEEKS))
        run = CourseRunFactory(
            cohort=CohortFactory(active=True, name="Office Administration 2026"),
            course=CourseFactory(code="OA101", name="Business communication"),
            trainer=trainer,
            start_date=first,
            end_date=monday + datetime.timedelta(days=60),
        )
        learners = learners_enrol(run, len(NAMES), names=NAMES)
        for week, statuses in enumerate(WEEKS):
            session = SessionFactory(
                course_run=run, session_date=first + datetime.timedelta(weeks=week, days=1)
            )
            register_save(
                session=session,
                actor=trainer_user,
                marks={
                    learner.pk: Mark(status)
                    for learner, status in zip(learners, statuses, strict=True)
                },
            )
        # The steps reached (set directly: how the learners got there is not shown here).
        enrolled = CohortEnrollment.objects.filter(cohort=run.cohort).order_by("pk")
        ids = list(enrolled.values_list("pk", flat=True))
        Learner.objects.filter(enrollments__pk__in=ids[:4]).update(
            details_completed_at=timezone.now()
        )
        enrolled.filter(pk__in=ids[:3]).update(
            document_verification_state=VerificationState.VERIFIED,
            agreement_signed_at=timezone.now(),
        )
        enrolled.filter(pk__in=ids[:2]).update(state=EnrollmentState.COMPLETE)
    return institution, admin, run.cohort


def expect_drawn(page: Page, chart_id: str) -> None:
    """Chart.js drew the chart: an instance on its canvas, which has a size."""
    page.wait_for_function(
        """(id) => {
            const canvas = document.querySelector(`#${id} canvas`);
            return Boolean(window.Chart && canvas && Chart.getChart(canvas)
                && canvas.width > 0 && canvas.height > 0);
        }""",
        arg=chart_id,
    )
    figure = page.locator(f"#{chart_id}")
    expect(figure.get_by_role("img")).to_be_visible()
    expect(figure.get_by_role("table")).to_be_hidden()


def expect_table(page: Page, chart_id: str, title: str, row: list[str]) -> None:
    """The chart's table, named by its caption, holds `row` (a label and its values)."""
    table = page.locator(f"#{chart_id}").get_by_role("table", name=title)
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name=" ".join(row), exact=True)).to_be_visible()


def test_an_admin_sees_the_charts_and_their_tables(page: Page, site, cohort_under_way):
    institution, admin, cohort = cohort_under_way
    checker = PageChecker(page, "charts", structure=True)
    sign_in(page, site.institution(institution.code, "/"), admin.email)

    expect(page.get_by_role("heading", name="Enrolments", exact=True)).to_be_visible()
    expect_drawn(page, "enrolments-chart")
    checker.look("home")
    page.locator("#enrolments-chart").get_by_text("Show as table").click()
    this_month = f"{timezone.localdate():%b %Y}"
    expect_table(
        page,
        "enrolments-chart",
        "Learners enrolled and onboarded per month",
        [this_month, "5", "0"],
    )

    page.goto(site.institution(institution.code, cohort.get_absolute_url()))
    expect(page.get_by_role("heading", name="Progress", exact=True)).to_be_visible()
    expect_drawn(page, "progress-chart")
    expect_drawn(page, "attendance-chart")
    checker.look("cohort")

    page.locator("#progress-chart").get_by_text("Show as table").click()
    expect_table(page, "progress-chart", "How far the learners have got", ["Agreement signed", "3"])
    page.locator("#attendance-chart").get_by_text("Show as table").click()
    rates = page.locator("#attendance-chart").get_by_role("table").locator("tbody td")
    expect(rates).to_have_text(["80.0%", "60.0%", "100.0%", "40.0%"])
    checker.look("cohort-tables")
    checker.assert_clean()


def test_without_the_chart_library_the_tables_stand_in(page: Page, site, cohort_under_way):
    institution, admin, cohort = cohort_under_way
    page.route("**/vendor/chartjs/**", lambda route: route.abort())
    checker = PageChecker(page, "charts-no-library", structure=True)
    page.set_viewport_size(PHONE)
    sign_in(page, site.institution(institution.code, cohort.get_absolute_url()), admin.email)

    expect(page.get_by_role("heading", name="Progress", exact=True)).to_be_visible()
    expect_table(page, "progress-chart", "How far the learners have got", ["Enrolled", "5"])
    expect(page.locator("#attendance-chart").get_by_role("table")).to_be_visible()
    expect(page.locator("#progress-chart canvas")).to_be_hidden()
    checker.look("cohort")
    checker.assert_clean()
