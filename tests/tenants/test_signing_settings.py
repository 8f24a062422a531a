"""The super admin sets how long the institution's signing links last, on the settings page."""

import pytest

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _form(**changes) -> dict:
    return {
        "name": "Alpha College",
        "registration_number": "",
        "address": "",
        "contact_email": "founder@alpha.example",
        "contact_phone": "",
        "brand_colour": "#1f5f8b",
        "signing_link_days": "14",
        **changes,
    }


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
