"""A super admin chooses the institution's time zone on the settings page; its pages then give
times in that zone, labelled with it."""

import re
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole, User
from tests.browser.support import PageChecker, open_account_menu_item, sign_in

pytestmark = pytest.mark.browser


def test_the_time_zone_chosen_on_the_settings_page_labels_the_pages_times(
    page: Page, site, make_institution, make_person
):
    institution = make_institution("zone")
    head = make_person(institution, SystemRole.SUPER_ADMIN, name="Zola Zone")
    checker = PageChecker(page, "time-zone", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), head.email)
    with tenant_context(institution):
        person_url = site.institution(institution.code, f"/accounts/people/{head.pk}/")
        signed_in_at = User.objects.get(pk=head.pk).last_login

    page.goto(person_url)
    last_sign_in = page.locator("dt:text('Last sign-in') + dd")
    expect(last_sign_in).to_have_text(re.compile(r"^\d{1,2} \w{3} \d{4} \d\d:\d\d SAST$"))
    checker.look("person-in-johannesburg")

    open_account_menu_item(page, "Settings")
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("Africa/Johannesburg")
    expect(page.get_by_text("labelled with it (e.g. 14:05 SAST)")).to_be_visible()
    checker.look("settings")
    zone.select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Institution settings saved.")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    checker.look("settings-saved")

    page.goto(person_url)
    tokyo = signed_in_at.astimezone(ZoneInfo("Asia/Tokyo"))
    expect(last_sign_in).to_have_text(f"{tokyo:%-d %b %Y %H:%M} JST")
    checker.look("person-in-tokyo")
    checker.assert_clean()
