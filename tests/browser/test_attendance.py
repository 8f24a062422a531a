"""The register in Chromium, on a phone: a trainer opens today's register from the registers
left to take, marks everyone present in one tap, changes the exceptions (an excused absence
is refused until it has its reason), saves and signs off; a correction without a reason is
refused, one with a reason shows in the learner's history. The learner then sees their
attendance, and an admin the cohort's rates with the flagged learner, at desktop and phone
widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (attendance-*.png)."""

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Locator, Page, expect

from accounts.models import SystemRole
from delivery.models import Trainer
from delivery.services.attendance import Mark, register_save, register_sign_off
from tests.browser.support import PASSWORD, PHONE, PageChecker, sign_in
from tests.delivery.attendance.support import learners_enrol
from tests.factories import CohortFactory, CourseFactory, CourseRunFactory, SessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

NAMES = ["Sipho Dlamini", "Lerato Khumalo", "Thandi Mokoena", "Ayanda Nkosi", "Pieter van Wyk"]


@pytest.fixture
def delivery(site, make_institution, make_person):
    """An institution whose trainer teaches a run of five learners: two earlier sessions
    (signed off, Sipho absent from both) and one today."""
    institution = make_institution("attendance")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    trainer_user = make_person(institution, SystemRole.TRAINER, name="Tumi Trainer")
    with tenant_context(institution):
        trainer = Trainer.objects.create(user=trainer_user, name=trainer_user.full_name)
        today = timezone.localdate()
        run = CourseRunFactory(
            cohort=CohortFactory(active=True, name="Office Administration 2026"),
            course=CourseFactory(code="OA101", name="Business communication"),
            trainer=trainer,
            start_date=today - datetime.timedelta(days=14),
            end_date=today + datetime.timedelta(days=60),
            venue="Room 4",
        )
        learners = learners_enrol(run, len(NAMES), names=NAMES, password=PASSWORD)
        for days, hour in ((-7, 9), (-2, 9)):
            earlier = SessionFactory(
                course_run=run,
                session_date=today + datetime.timedelta(days=days),
                start_time=datetime.time(hour, 0),
                end_time=datetime.time(hour + 3, 0),
                venue="Room 4",
            )
            register_save(
                session=earlier,
                actor=trainer_user,
                marks={learners[0].pk: Mark("absent")},
                rest_present=True,
            )
            register_sign_off(session=earlier, actor=trainer_user)
        session = SessionFactory(
            course_run=run,
            session_date=today,
            start_time=datetime.time(0, 0),
            end_time=datetime.time(23, 59),
            venue="Room 4",
        )
    return institution, admin, trainer_user, learners, session, run.cohort


def learner_row(page: Page, name: str) -> Locator:
    return page.get_by_role("group", name=name, exact=True)


def choose(page: Page, name: str, status: str) -> None:
    learner_row(page, name).locator("label", has_text=status).click()


def test_a_trainer_takes_the_register_on_a_phone_and_signs_it_off(page: Page, site, delivery):
    institution, admin, trainer, learners, session, cohort = delivery
    checker = PageChecker(page, "attendance", structure=True)
    page.set_viewport_size(PHONE)
    sign_in(page, site.institution(institution.code, "/delivery/registers/"), trainer.email)
    expect(page.get_by_role("heading", name="Registers")).to_be_visible()
    checker.look("registers")

    page.get_by_role("link", name="Business communication").click()
    expect(page.get_by_role("heading", name="Register: Business communication")).to_be_visible()
    expect(page.get_by_text("5 not marked")).to_be_visible()
    checker.look("register-new")

    page.get_by_role("button", name="Mark everyone present").click()
    expect(page.get_by_text("Everyone else marked present")).to_be_visible()
    expect(page.get_by_text("5 present")).to_be_visible()

    choose(page, "Sipho Dlamini", "Absent")
    expect(learner_row(page, "Sipho Dlamini").get_by_label("Reason")).to_be_visible()
    expect(learner_row(page, "Lerato Khumalo").get_by_label("Reason")).to_be_hidden()
    choose(page, "Lerato Khumalo", "Excused")
    choose(page, "Thandi Mokoena", "Late")
    learner_row(page, "Thandi Mokoena").get_by_label("Reason").fill("Taxi strike")
    page.get_by_role("button", name="Save", exact=True).click()
    excused = learner_row(page, "Lerato Khumalo")
    expect(
        excused.get_by_text("An excused absence needs the reason it was accepted.")
    ).to_be_visible()
    checker.look("register-refused")

    excused.get_by_label("Reason").fill("Funeral; letter seen")
    page.once("dialog", lambda dialog: dialog.accept())  # confirm.js asks first
    page.get_by_role("button", name="Save and sign off").click()
    expect(page.get_by_text("Register signed off.")).to_be_visible()
    expect(page.get_by_text("2 present")).to_be_visible()
    expect(page.get_by_text("1 excused")).to_be_visible()
    checker.look("register-signed-off")

    choose(page, "Ayanda Nkosi", "Absent")
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_text("a correction needs its reason")).to_be_visible()
    expect(page.get_by_text("2 present")).to_be_visible()
    checker.look("correction-refused")

    page.get_by_label("Why does the signed-off register change?").fill(
        "She left at tea; the sign-in sheet says so"
    )
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_text("1 correction saved.")).to_be_visible()
    history = learner_row(page, "Ayanda Nkosi")
    history.get_by_text("Corrected 1 time").click()
    expect(history.get_by_text("the sign-in sheet says so")).to_be_visible()
    checker.look("corrected")
    checker.assert_clean()


def test_the_learner_and_the_admin_see_the_rates(page: Page, site, delivery, browser):
    institution, admin, trainer, learners, session, cohort = delivery
    checker = PageChecker(page, "attendance-rates", structure=True)
    sign_in(
        page,
        site.institution(institution.code, "/delivery/my/attendance/"),
        learners[0].enrollment.user.email,
    )
    expect(page.get_by_role("heading", name="My attendance")).to_be_visible()
    expect(page.get_by_text("Under 80%")).to_be_visible()
    expect(page.get_by_text("No sessions yet")).to_have_count(0)
    checker.look("learner")

    context = browser.new_context()
    staff = context.new_page()
    staff_checker = PageChecker(staff, "attendance-cohort", structure=True)
    sign_in(
        staff,
        site.institution(institution.code, f"/delivery/cohorts/{cohort.pk}/attendance/"),
        admin.email,
    )
    expect(staff.get_by_role("heading", name="Attendance", exact=True)).to_be_visible()
    flagged = staff.get_by_role("row").filter(has_text="Sipho Dlamini")
    expect(flagged.get_by_text("Under 80%")).to_be_visible()
    expect(staff.get_by_text("Under 80%", exact=True)).to_have_count(1)
    staff_checker.look("cohort")

    staff.get_by_label("Only those under 80%").check()
    staff.get_by_role("button", name="Show").click()
    expect(staff.get_by_role("row").filter(has_text="Lerato Khumalo")).to_have_count(0)
    expect(staff.get_by_role("row").filter(has_text="Sipho Dlamini")).to_have_count(1)

    staff.get_by_role("link", name="Change the threshold").click()
    staff.get_by_label("Attendance threshold (%)").fill("0")
    staff.get_by_role("button", name="Save threshold").click()
    expect(staff.get_by_text("greater than or equal to 1")).to_be_visible()
    staff_checker.look("threshold-refused")
    staff.get_by_label("Attendance threshold (%)").fill("100")
    staff.get_by_role("button", name="Save threshold").click()
    expect(staff.get_by_text("Attendance threshold set to 100%.")).to_be_visible()
    checker.assert_clean()
    staff_checker.assert_clean()
    context.close()
