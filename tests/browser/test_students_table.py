"""The cohort page's students table in Chromium: filtering by agreement and by documents
status (the filters kept from page to page and in the export links), and on a phone (390 px)
every list's status column on the screen, not hidden and not pushed off to the side.

With SCREENSHOTS=1 the pages are saved under screenshots/ (students-*.png)."""

import re
import threading

import pytest
from django.db import connections
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.models import Cohort
from sponsors.services import cohort_sponsor_set, sponsor_create
from tests.browser.support import PHONE, PageChecker, sign_in
from tests.enrolments.table_support import DECLINE_REASON, students_at_every_step
from tests.factories import CohortFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

# Each list page, the name of its status column, and what its table must show (a row).
LISTS = [
    ("cohort page", "/cohorts/{cohort}/", "Progress", "Eve Signed"),
    ("cohort list", "/cohorts/", "State", "Plumbing 2027"),
    ("people list", "/accounts/people/", "Status", "Hana Head"),
    ("submissions list", "/agreements/sent/", "Status", "Eve Signed"),
    ("sponsor list", "/sponsors/", "Cohorts", "Pipeworks Ltd"),
    ("review queue", "/review/", "Waiting", "Ben Waitingstudent"),
    ("audit trail", "/audit/", "Action", "cohort"),
    ("roles", "/accounts/people/roles/", "People", "Verifier"),
    ("document types", "/cohorts/documents/", "Files", "Matric certificate"),
    ("agreement templates", "/agreements/", "Actions", "Programme participation"),
]


@pytest.fixture
def cohort(site, make_institution, make_person, media):
    """An institution whose cohort has a student at every step of the table, with a sponsor,
    and a super admin (Hana Head) who signs in."""
    institution = make_institution("table")
    head = make_person(institution, SystemRole.SUPER_ADMIN, name="Hana Head")
    made: list[Cohort] = []
    failures: list[BaseException] = []

    def build() -> None:
        try:
            with tenant_context(institution):
                sponsor = sponsor_create(
                    actor=head,
                    company_name="Pipeworks Ltd",
                    contact_name="Sam Sponsor",
                    contact_email="sam@pipeworks.example",
                )
                # The sponsor first: a new sponsor revokes the learners' agreements waiting.
                plumbing = cohort_sponsor_set(
                    cohort=CohortFactory(active=True, name="Plumbing 2027"),
                    actor=head,
                    sponsor=sponsor,
                )
                students = students_at_every_step(head, cohort=plumbing)
                CohortFactory(active=True, name="Electrical 2027 with a rather long name")
                made.append(students.cohort)
        except BaseException as error:  # reported in the test's thread
            failures.append(error)
        finally:
            connections.close_all()

    # Sealing the signed agreement runs an event loop of its own, which Playwright's, running
    # in the test's thread, would refuse.
    worker = threading.Thread(target=build)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "building the cohort did not finish"
    if failures:
        raise failures[0]
    return institution, head, made[0]


def _students(page: Page) -> list[str]:
    return [
        name.strip()
        for name in page.locator(
            "#students tbody tr td:first-child a.fw-semibold"
        ).all_inner_texts()
    ]


def test_filtering_the_students_by_agreement_and_documents(page: Page, site, cohort):
    institution, head, the_cohort = cohort
    checker = PageChecker(page, "students", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), head.email)
    page.goto(site.institution(institution.code, f"/cohorts/{the_cohort.pk}/"))

    table = page.locator("#students")
    expect(table.get_by_role("columnheader", name="Agreement")).to_be_visible()
    row = table.get_by_role("row").filter(has_text="Dan Declined")
    expect(row.get_by_text(f"By the student: “{DECLINE_REASON}”").last).to_be_visible()
    expect(
        table.get_by_role("row")
        .filter(has_text="Cara Waitingsponsor")
        .get_by_text("Waiting for the sponsor")
        .last
    ).to_be_visible()
    checker.look("cohort-page")

    page.get_by_label("Agreement", exact=True).select_option("waiting")
    expect(page).to_have_url(re.compile(r"agreement=waiting"))
    expect(table.get_by_role("row")).to_have_count(3)  # the heading and two students
    assert _students(page) == ["Ben Waitingstudent", "Cara Waitingsponsor"]

    page.get_by_label("Documents", exact=True).select_option("not_uploaded")
    expect(table.get_by_role("row")).to_have_count(2)
    assert _students(page) == ["Cara Waitingsponsor"]
    export = table.get_by_role("link", name="CSV")
    expect(export).to_have_attribute(
        "href", re.compile(r"/export/students\.csv\?agreement=waiting&documents=not_uploaded$")
    )
    expect(table.get_by_role("link", name="Excel (XLSX)")).to_be_visible()
    expect(table.get_by_text("Export 1 student:")).to_be_visible()
    with page.expect_download() as download:
        export.click()
    assert download.value.suggested_filename.startswith("plumbing-2027-students-")
    checker.look("cohort-page-filtered")

    # A reload keeps the filters in the form and the table.
    page.reload()
    expect(page.get_by_label("Agreement", exact=True)).to_have_value("waiting")
    expect(page.get_by_label("Documents", exact=True)).to_have_value("not_uploaded")
    assert _students(page) == ["Cara Waitingsponsor"]

    page.get_by_label("Agreement", exact=True).select_option("")
    expect(table.get_by_role("row")).to_have_count(3)
    page.get_by_label("Documents", exact=True).select_option("approved")
    expect(table.get_by_role("link", name="Eve Signed")).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(2)
    assert _students(page) == ["Eve Signed"]
    checker.assert_clean()


# Where the status cell of the first row showing `text` is, in the main table: whether it is
# displayed, its left and right edges and its text. A table stacked on a phone (.table-stack)
# has no header row on screen, but each cell still is.
STATUS_CELL = """([column, text]) => {
    // The list's table: the one holding the row (a chart's table may come first).
    const table = [...document.querySelectorAll("main table")]
        .find(candidate => candidate.textContent.includes(text));
    const names = [...table.querySelectorAll("thead th")]
        .map(th => th.textContent.replace(/[▲▼]/g, "").trim());
    const row = [...table.querySelectorAll("tbody tr")].find(tr => tr.textContent.includes(text));
    const cell = row && row.children[names.indexOf(column)];
    if (!cell) return {names, found: false};
    const box = cell.getBoundingClientRect();
    return {
        names, found: true, shown: getComputedStyle(cell).display !== "none" && box.width > 0,
        left: box.left, right: box.right, width: window.innerWidth, text: cell.innerText.trim(),
    };
}"""


def test_on_a_phone_every_list_keeps_its_status_column_on_the_screen(page: Page, site, cohort):
    institution, head, the_cohort = cohort
    checker = PageChecker(page, "students-phone", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), head.email)
    problems = []
    for name, path, column, shown in LISTS:
        page.set_viewport_size(PHONE)
        page.goto(site.institution(institution.code, path.format(cohort=the_cohort.pk)))
        expect(page.get_by_role("main").get_by_role("table").filter(has_text=shown)).to_be_visible()
        cell = page.evaluate(STATUS_CELL, [column, shown])
        if not cell["found"]:
            problems.append(f"{name}: no {column} column in {cell['names']}")
        elif not (cell["shown"] and cell["text"] and 0 <= cell["left"] < cell["right"] <= 390):
            problems.append(f"{name}: the {column} of a row is off the phone's screen: {cell}")
        checker.look(name.replace(" ", "-"))
    assert not problems, "\n".join(problems)

    # On the cohort page the agreement's and documents' status show with the progress.
    page.set_viewport_size(PHONE)
    page.goto(site.institution(institution.code, f"/cohorts/{the_cohort.pk}/"))
    row = page.locator("#students tbody tr").filter(has_text="Cara Waitingsponsor")
    for status in ("Waiting for the sponsor", "Not uploaded"):
        badge = row.get_by_text(status, exact=True).first
        expect(badge).to_be_visible()
        box = badge.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    checker.assert_clean()
