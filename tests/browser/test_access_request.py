"""An admin answers a learner's access request: from the learner's page, one action; the
status page follows the export until the ZIP is ready, and the ZIP holds the readable index
and every area. Someone without the permission is refused the download. Desktop and phone
widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (access-request-*.png)."""

import zipfile
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from learners.services import learner_create
from tests.browser.support import PageChecker, sign_in
from tests.learners.support import details_of, sa_id_number

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

NUMBER = sa_id_number(2468)


def test_an_admin_exports_everything_held_about_a_learner(
    page: Page, site, make_institution, make_person, media, celery_worker
):
    institution = make_institution("access")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    trainer = make_person(institution, SystemRole.TRAINER, name="Tumi Trainer")
    with tenant_context(institution):
        learner = learner_create(
            actor=admin,
            names={"first_name": "Thandi", "last_name": "Mokoena", "email": "t@example.org"},
            details=details_of(id_number=NUMBER),
        )
    login_url = site.institution(institution.code, "/accounts/login/")
    checker = PageChecker(page, "access-request", structure=True)

    sign_in(page, login_url, admin.email)
    page.goto(site.institution(institution.code, f"/learners/{learner.pk}/"))
    checker.look("learner")
    page.get_by_role("button", name="Export everything held about this person").click()
    expect(page.get_by_role("heading", name="Everything held about Thandi Mokoena")).to_be_visible()
    expect(page.get_by_role("link", name="Download the ZIP")).to_be_visible(timeout=30_000)
    checker.look("ready")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the ZIP").click()
    archive = zipfile.ZipFile(Path(download.value.path()))
    assert "Thandi Mokoena" in archive.read("index.html").decode()
    assert NUMBER in archive.read("profile.csv").decode()
    status_url = page.url

    page.context.clear_cookies()
    sign_in(page, login_url, trainer.email)
    response = page.goto(status_url + "download/")
    assert response.status == 404
    checker.assert_clean()
