"""The learner opens the page that says what their portfolio of evidence as one PDF holds, and
downloads it: a sealed PDF with its cover and index. Then staff see the copy kept on record with
its fingerprint. Desktop and phone widths, axe-core on every page."""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from signing.models import InstitutionCertificate
from signing.sealing import pdf_seal_check
from tests.browser.support import PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.workplace.support import workplace_world
from tests.workplace.test_export import pages_text, portfolio_assembled
from workplace.models import PortfolioExport

pytestmark = pytest.mark.browser


def test_the_learner_downloads_their_sealed_portfolio_and_staff_see_its_hash(
    page: Page, site, make_institution, make_person, ratelimit_reset, media
):
    institution = make_institution("export")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        assembled = portfolio_assembled(workplace_world(admin))
        learner = assembled.world.learner
        course_enrollment_pk = learner.course_enrollment.pk
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    address = url(f"/workplace/portfolios/course/{course_enrollment_pk}/pdf/")
    checker = PageChecker(page, "workplace-export", structure=True)

    sign_in(page, url("/accounts/login/"), learner.user.email, FACTORY_PASSWORD)
    page.goto(address)
    expect(page.get_by_role("heading", name="My portfolio of evidence as a PDF")).to_be_visible()
    expect(page.get_by_text("Produced before")).to_have_count(0)
    checker.look("learner-page")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the sealed PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename == f"portfolio-WP101-{learner.learner.pk}.pdf"
    assert pdf.startswith(b"%PDF")
    with tenant_context(institution):
        certificates = list(InstitutionCertificate.objects.all())
        export = PortfolioExport.objects.get()
    # pyHanko checks in an event loop of its own: not in the one Playwright runs in this thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(pdf_seal_check, pdf, certificates=certificates).result().ok
    assert export.sha256 == hashlib.sha256(pdf).hexdigest()
    texts = pages_text(pdf)
    assert "Index" in texts[1]

    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(address)
    expect(page.get_by_role("heading", name="portfolio of evidence as a PDF")).to_be_visible()
    expect(page.get_by_text(export.sha256)).to_be_visible()
    checker.look("staff-page")
    checker.assert_clean()
