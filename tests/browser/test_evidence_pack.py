"""An admin builds a completed cohort's evidence pack, downloads it, and checks its manifest
and one of its files on the public verify page; a changed file is refused. Desktop and phone
widths, axe-core on every page."""

import io
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from tests.browser.support import PageChecker, sign_in
from tests.reports.evidence_support import evidence_world_make

pytestmark = pytest.mark.browser


def _world_in_a_thread(institution, admin):
    """The cohort's evidence, made outside Playwright's event loop: sealing runs pyHanko's
    own (asyncio.run), which refuses to start inside another."""

    def make():
        try:
            with tenant_context(institution):
                return evidence_world_make(admin)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(make).result()


def test_admin_builds_downloads_and_verifies_an_evidence_pack(
    page: Page, site, make_institution, make_person, celery_worker, ratelimit_reset
):
    institution = make_institution("evidence")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    world = _world_in_a_thread(institution, admin)
    checker = PageChecker(page, "evidence-pack", structure=True)

    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)
    page.goto(site.institution(institution.code, f"/cohorts/{world.cohort.pk}/"))
    page.get_by_role("link", name="Evidence pack").click()
    expect(page.get_by_role("heading", name="Evidence packs")).to_be_visible()
    expect(page.get_by_text("No evidence pack has been built for this cohort yet.")).to_be_visible()
    checker.look("cohort-packs")

    page.get_by_role("button", name="Build an evidence pack").click()
    expect(page.get_by_role("heading", name="Evidence pack #")).to_be_visible()
    # The status polls until the worker has built the pack, then the page reloads.
    download_link = page.get_by_role("link", name="Download the pack (ZIP)")
    expect(download_link).to_be_visible(timeout=60_000)
    checker.look("pack-ready")

    with page.expect_download() as downloading:
        download_link.click()
    with open(downloading.value.path(), "rb") as stored:
        archive = zipfile.ZipFile(io.BytesIO(stored.read()))
    manifest = archive.read("manifest.pdf")
    results = archive.read("results/results.csv")

    page.goto(site.institution(institution.code, "/evidence/verify/"))
    expect(page.get_by_role("heading", name="Verify an evidence pack")).to_be_visible()
    checker.look("verify")
    page.get_by_label("Manifest (manifest.pdf from the pack)").set_input_files(
        files=[{"name": "manifest.pdf", "mimeType": "application/pdf", "buffer": manifest}]
    )
    page.get_by_label("A file from the pack (optional)").set_input_files(
        files=[{"name": "results.csv", "mimeType": "text/csv", "buffer": results}]
    )
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="Genuine manifest")).to_be_visible()
    expect(page.get_by_role("heading", name="File listed")).to_be_visible()
    expect(page.get_by_text("listed in the manifest as results/results.csv")).to_be_visible()
    checker.look("verified")

    page.get_by_label("Manifest (manifest.pdf from the pack)").set_input_files(
        files=[{"name": "manifest.pdf", "mimeType": "application/pdf", "buffer": manifest}]
    )
    page.get_by_label("A file from the pack (optional)").set_input_files(
        files=[
            {
                "name": "results.csv",
                "mimeType": "text/csv",
                "buffer": results.replace(b"78.00", b"98.00"),
            }
        ]
    )
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="File not verified")).to_be_visible()
    expect(page.get_by_text("was changed after the pack was built")).to_be_visible()
    checker.look("changed-file")
    checker.assert_clean()
