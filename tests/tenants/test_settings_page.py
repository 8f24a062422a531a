"""The settings page: only a super admin reaches it, to change the institution's profile, branding
and how long its signing links last."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import SystemRole
from audit.models import AuditEvent
from tenants.models import Institution
from tests.factories import UserFactory
from tests.files import png_bytes

pytestmark = pytest.mark.django_db


def _png(width: int = 40, height: int = 20) -> SimpleUploadedFile:
    content = png_bytes((width, height), "#123456")
    return SimpleUploadedFile("logo.png", content, content_type="image/png")


def _form(**changes) -> dict:
    return {
        "name": "Alpha College",
        "registration_number": "",
        "address": "",
        "contact_email": "founder@alpha.example",
        "contact_phone": "",
        "brand_colour": "#1f5f8b",
        "signing_link_days": "14",
        "time_zone": "Africa/Johannesburg",
        **changes,
    }


def test_super_admin_changes_branding_and_logo_is_served_privately(
    institution, super_admin_client, media
):
    response = super_admin_client.post(
        "/settings/", _form(brand_colour="#aa3300", registration_number="REG-1", logo=_png())
    )
    assert response.status_code == 302

    institution.refresh_from_db()
    assert institution.brand_colour == "#aa3300"
    assert institution.logo.name.startswith("branding/logo-")
    assert (media / "inst_alpha" / institution.logo.name).exists()
    page = super_admin_client.get("/").content.decode()
    assert "--brand: #aa3300" in page
    logo = super_admin_client.get("/branding/logo/")
    assert logo["Content-Type"] == "image/png"
    event = AuditEvent.objects.get(action="institution.profile_updated")
    assert event.old_values == {"brand_colour": "#1f5f8b", "registration_number": ""}
    assert event.new_values["brand_colour"] == "#aa3300"
    Institution.objects.filter(pk=institution.pk).update(brand_colour="#1f5f8b", logo="")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"brand_colour": "red"}, "six hexadecimal digits"),
        ({"brand_colour": "#ffee88"}, "White text is hard to read on this colour"),
        ({"name": ""}, "This field is required."),
        ({"logo": SimpleUploadedFile("logo.png", b"<svg></svg>")}, "Upload a valid image"),
        ({"logo": _png(2500, 10)}, "2000 × 2000 pixels"),
    ],
)
def test_bad_settings_are_explained_and_nothing_changes(
    institution, super_admin_client, changes, message
):
    response = super_admin_client.post("/settings/", _form(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    institution.refresh_from_db()
    assert institution.brand_colour == "#1f5f8b"
    assert institution.name == "Alpha College"


@pytest.mark.parametrize("role", [SystemRole.ADMIN, SystemRole.AUDITOR, SystemRole.STUDENT])
def test_only_super_admins_reach_settings(institution, client_for, role):
    client = client_for(institution)
    client.force_login(UserFactory(roles=[role]))
    assert client.get("/settings/").status_code == 404


def test_settings_page_shows_the_signing_link_lifetime(super_admin_client):
    page = super_admin_client.get("/settings/").content.decode()
    assert "Signing links last (days)" in page
    assert 'name="signing_link_days" value="14"' in page


def test_the_signing_link_lifetime_change_is_saved_and_audited(institution, super_admin_client):
    response = super_admin_client.post("/settings/", _form(signing_link_days="30"))
    assert response.status_code == 302
    institution.refresh_from_db()
    assert institution.signing_link_days == 30
    event = AuditEvent.objects.get(action="institution.profile_updated")
    assert event.old_values == {"signing_link_days": 14}
    assert event.new_values == {"signing_link_days": 30}


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "A signing link must last at least 1 day."),
        ("91", "A signing link may last at most 90 days."),
    ],
)
def test_a_lifetime_outside_one_to_ninety_days_is_refused(
    institution, super_admin_client, days, message
):
    response = super_admin_client.post("/settings/", _form(signing_link_days=days))
    assert response.status_code == 200
    assert message in response.content.decode()
    institution.refresh_from_db()
    assert institution.signing_link_days == 14
    assert not AuditEvent.objects.filter(action="institution.profile_updated").exists()
