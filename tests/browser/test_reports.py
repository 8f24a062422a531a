"""An admin opens Reports, looks at the equity breakdown with its chart (after a year it
refuses), and runs it as an Excel file that a real Celery worker produces while the page shows
its progress; the file downloaded has its small counts suppressed. Desktop and phone widths,
axe-core on every page."""

import io
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from accounts.models import Role, SystemRole, User, UserRole
from enrolments.models import CohortEnrollment
from learners.choices import Disability, Gender, Race
from learners.models import Learner
from tests.browser.support import PageChecker, sign_in
from tests.factories import CohortFactory

pytestmark = pytest.mark.browser


def learners_enrolled(cohort, count: int, *, race: str, gender: str, prefix: str) -> None:
    student = Role.objects.get(key=SystemRole.STUDENT)
    for number in range(count):
        user = User.objects.create_user(
            f"{prefix}{number}-{cohort.pk}@learners.example", None, full_name=f"{prefix} {number}"
        )
        UserRole.objects.create(user=user, role=student)
        learner = Learner.objects.create(
            user=user,
            first_name=prefix,
            last_name=str(number),
            email=user.email,
            race=race,
            gender=gender,
            disability=Disability.NONE,
        )
        CohortEnrollment.objects.create(cohort=cohort, user=user, learner=learner)


def test_an_admin_runs_the_equity_report_with_its_chart_and_downloads_it_as_xlsx(
    page: Page, site, make_institution, make_person, ratelimit_reset, media, celery_worker
):
    institution = make_institution("reports")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        cohort = CohortFactory(created_by=admin, name="Data Science 2027")
        learners_enrolled(cohort, 6, race=Race.AFRICAN, gender=Gender.FEMALE, prefix="Amahle")
        learners_enrolled(cohort, 1, race=Race.COLOURED, gender=Gender.MALE, prefix="Carl")
    # Chart.js sizes its canvas with a style attribute.
    checker = PageChecker(page, "reports", structure=True, inline_styles=False)

    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_text("No saved reports yet.")).to_be_visible()
    checker.look("index")

    page.get_by_role("link", name="Demographic and equity breakdown").click()
    expect(page.get_by_role("heading", name="Demographic and equity breakdown")).to_be_visible()
    expect(page.get_by_text("shown as “<N” in every file")).to_be_visible()
    checker.look("report")

    page.get_by_label("Year").fill("1999")
    page.get_by_role("button", name="Show on this page").click()
    expect(page.get_by_text("Choose a year from 2000.")).to_be_visible()
    expect(page.get_by_role("heading", name="On this page")).to_have_count(0)
    checker.look("report-refused")

    page.get_by_label("Year").fill("")
    page.get_by_role("button", name="Show on this page").click()
    expect(page.get_by_role("heading", name="On this page")).to_be_visible()
    chart = page.locator("figure#equity-chart")
    expect(chart).to_be_visible()
    expect(chart.get_by_role("img", name="Learners by population group and gender")).to_be_visible()
    preview = page.get_by_role("table", name="Demographic and equity breakdown")
    expect(preview.get_by_role("row").filter(has_text="Coloured")).to_contain_text("1")
    checker.look("preview")

    page.get_by_label("Excel (XLSX)").check()
    page.get_by_role("button", name="Produce the file").click()
    expect(page.get_by_role("heading", name="Demographic and equity breakdown")).to_be_visible()
    download_link = page.get_by_role("link", name="Download the Excel (XLSX) file")
    expect(download_link).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Ready: 2 rows")).to_be_visible()
    checker.look("execution")

    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.startswith("equity-")
    assert download.value.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    assert rows[0][:5] == ["Group", "Population group", "Gender", "Disability", "Learners"]
    by_group = {(row[1], row[2]): row[4] for row in rows[1:]}
    assert by_group == {("African", "Female"): 6, ("Coloured", "Male"): "<5"}

    menu.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("cell", name="Demographic and equity breakdown #")).to_be_visible()
    checker.look("index-with-run")
    checker.assert_clean()
