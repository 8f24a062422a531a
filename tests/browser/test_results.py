"""Results in Chromium: a trainer fills a gradebook by typing (Enter moves down) and by pasting a
block copied from a spreadsheet, has a cell that is not a result refused, then voids one result
(refused without a reason, accepted with one, kept in its history); the moderator signs the
run off and its results become final. Once final, the moderator voids a result found wrong
(refused without a reason) and the learner's course grade follows. Desktop and phone widths,
axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (results-*.png)."""

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page, expect

from accounts.models import SystemRole
from delivery.models import Trainer
from delivery.services.assessments import gradebook_save
from delivery.services.moderation import run_moderator_assign, run_results_sign_off
from tests.browser.support import PageChecker, sign_in
from tests.delivery.results_support import learners_enrol
from tests.factories import CourseRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]


@pytest.fixture
def course(site, make_institution, make_person):
    """A run of three learners taught by Tumi, moderated by Mpho."""
    institution = make_institution("results")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    teacher = make_person(institution, SystemRole.TRAINER, name="Tumi Trainer")
    moderator = make_person(institution, SystemRole.MODERATOR, name="Mpho Moderator")
    with tenant_context(institution):
        trainer = Trainer.objects.create(user=teacher, name=teacher.full_name, email=teacher.email)
        run = CourseRunFactory(trainer=trainer, course__code="BM101", course__name="Business Maths")
        learners_enrol(run, 3)
        run_moderator_assign(run=run, actor=admin, moderator=moderator)
    return institution, teacher, moderator, run


def paste(page: Page, label: str, text: str) -> None:
    """Paste `text` into the cell called `label`, as from a spreadsheet's clipboard."""
    page.get_by_label(label).evaluate(
        """(cell, text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            cell.focus();
            cell.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                            cancelable: true}));
        }""",
        text,
    )


def test_a_trainer_records_and_voids_results_and_the_moderator_signs_off(
    page: Page, browser: Browser, site, course
):
    institution, teacher, moderator, run = course
    checker = PageChecker(page, "results", structure=True)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, site.institution(institution.code, "/delivery/results/"), teacher.email)
    expect(page.get_by_role("heading", name="Results", exact=True)).to_be_visible()
    checker.look("runs")
    page.get_by_role("link", name="BM101 Business Maths").click()
    expect(page.get_by_role("heading", name="Gradebook")).to_be_visible()

    page.get_by_label("Name of a new assessment").fill("Summative")
    page.get_by_label("Learner 000, new assessment").fill("72")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Learner 001, new assessment")).to_be_focused()
    page.keyboard.type("abc")
    page.keyboard.press("Enter")
    page.keyboard.type("38")
    expect(page.get_by_text("3 unsaved changes")).to_be_visible()
    checker.look("gradebook-typed")
    page.get_by_role("button", name="Save results").click()
    expect(page.get_by_text("Learner 001, Summative: abc is not a result")).to_be_visible()
    expect(page.get_by_label("Learner 001, new assessment")).to_have_value("abc")
    checker.look("gradebook-refused")
    page.get_by_label("Learner 001, new assessment").fill("45")
    page.get_by_role("button", name="Save results").click()
    expect(page.get_by_text("Saved: 3 new result(s), 0 corrected.")).to_be_visible()

    page.get_by_label("Name of a new assessment").fill("Practical")
    paste(page, "Learner 000, new assessment", "80\n50\n61\n")
    expect(page.get_by_label("Learner 002, new assessment")).to_have_value("61")
    page.get_by_role("button", name="Save results").click()
    expect(page.get_by_text("Saved: 3 new result(s), 0 corrected.")).to_be_visible()
    expect(page.get_by_label("Learner 002, Practical")).to_have_value("61")
    checker.look("gradebook-saved")

    page.get_by_role("link", name="Learner 001").click()
    expect(page.get_by_role("heading", name="Learner 001")).to_be_visible()
    checker.look("learner")
    summative = page.get_by_role("region", name="Summative")
    summative.get_by_role("button", name="Void result").click()
    expect(page.get_by_text("Say why the result is voided")).to_be_visible()
    checker.look("void-refused")
    page.get_by_label("Reason for voiding Summative").fill("Wrote another learner's paper")
    page.get_by_role("region", name="Summative").get_by_role("button", name="Void result").click()
    expect(page.get_by_text("Summative voided; it stays in the history.")).to_be_visible()
    summative = page.get_by_role("region", name="Summative")
    expect(summative.get_by_text("Void:")).to_be_visible()
    expect(summative.get_by_text("“Wrote another learner's paper”")).to_be_visible()
    checker.look("voided")

    moderating = browser.new_context(base_url=site.institution(institution.code))
    other = moderating.new_page()
    other.on("dialog", lambda dialog: dialog.accept())
    moderator_checker = PageChecker(other, "results-moderator", structure=True)
    sign_in(
        other,
        site.institution(institution.code, "/delivery/results/?show=to_moderate"),
        moderator.email,
    )
    other.get_by_role("link", name="Moderation of BM101").click()
    expect(other.get_by_role("heading", name="Moderation")).to_be_visible()
    expect(other.get_by_text("Learner 001", exact=True)).to_be_visible()
    moderator_checker.look("moderation")
    other.get_by_role("button", name="Sign off results").click()
    expect(other.get_by_text("Results signed off")).to_be_visible()
    expect(other.get_by_text("Results can no longer change")).to_be_visible()
    moderator_checker.look("signed-off")

    page.goto(site.institution(institution.code, f"/delivery/runs/{run.pk}/results/"))
    expect(page.get_by_text("Results can no longer change")).to_be_visible()
    expect(page.get_by_role("button", name="Save results")).to_have_count(0)
    checker.look("gradebook-final")
    moderating.close()
    checker.assert_clean()
    moderator_checker.assert_clean()


@pytest.fixture
def moderated_course(course):
    """The run of `course` with two results per learner, signed off by Mpho."""
    institution, teacher, moderator, run = course
    with tenant_context(institution):
        run.refresh_from_db()  # its moderator, given by `course`
        enrolments = list(run.enrollments.order_by("enrollment__learner__last_name"))
        for name, marks in (("Formative", ["80", "65", "70"]), ("Summative", ["75", "30", "68"])):
            cells = {(e.pk, name): mark for e, mark in zip(enrolments, marks, strict=True)}
            gradebook_save(run=run, actor=teacher, cells=cells)
        run_results_sign_off(run=run, actor=moderator)
    return course


def test_the_moderator_voids_a_moderated_result_with_a_reason(page: Page, site, moderated_course):
    institution, _teacher, moderator, run = moderated_course
    checker = PageChecker(page, "results-moderated-void", structure=True)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(
        page,
        site.institution(institution.code, f"/delivery/runs/{run.pk}/moderation/"),
        moderator.email,
    )
    expect(page.get_by_role("heading", name="Moderation")).to_be_visible()
    expect(page.get_by_text("A result found wrong since sign-off can")).to_be_visible()
    checker.look("moderation")
    page.get_by_role("link", name="Void Learner 001, Summative").click()
    expect(page.get_by_role("heading", name="Learner 001")).to_be_visible()
    summative = page.get_by_role("region", name="Summative")
    expect(summative.get_by_text("works out Learner 001's course result again")).to_be_visible()
    checker.look("learner")

    summative.get_by_role("button", name="Void result").click()
    expect(page.get_by_text("Say why the result is voided")).to_be_visible()
    checker.look("refused")
    page.get_by_label("Reason for voiding Summative").fill("Marked against the wrong memo")
    page.get_by_role("region", name="Summative").get_by_role("button", name="Void result").click()
    expect(
        page.get_by_text(
            "Summative voided; it stays in the history. Learner 001's course result is now "
            "65% C (completed)."
        )
    ).to_be_visible()
    summative = page.get_by_role("region", name="Summative")
    expect(summative.get_by_text("“Marked against the wrong memo”")).to_be_visible()
    expect(summative.get_by_role("button", name="Void result")).to_have_count(0)
    checker.look("voided")

    page.get_by_role("link", name="Moderation").click()
    row = page.get_by_role("row", name="Learner 001")
    expect(row.get_by_text("C", exact=True)).to_be_visible()
    expect(row.get_by_role("link", name="Void Learner 001, Summative")).to_have_count(0)
    checker.look("moderation-after")
    checker.assert_clean()
