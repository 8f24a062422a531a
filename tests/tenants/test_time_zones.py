"""The institution's time zone: chosen on the settings page, in force on its pages and in its
tasks, and written beside every time ("14:05 SAST")."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from config.celery import app
from tenants.models import Institution
from tenants.zones import (
    institution_zone,
    moment_text,
    time_zone_names,
    zone_description,
    zone_label,
)
from tests.factories import UserFactory
from tests.tenants.test_settings_page import _form

pytestmark = pytest.mark.django_db

# 12:05 UTC: 14:05 in Johannesburg (SAST, UTC+2), 21:05 in Tokyo (JST, UTC+9).
INSTANT = datetime.datetime(2027, 5, 4, 12, 5, 3, tzinfo=datetime.UTC)


@app.task(name="tests.current_time_zone")
def current_time_zone() -> str:
    return timezone.get_current_timezone_name()


def _use_zone(institution: Institution, name: str) -> None:
    """As a settings change would leave it: the row, and the connection's copy of it."""
    Institution.objects.filter(pk=institution.pk).update(time_zone=name)
    institution.refresh_from_db()
    connection.set_tenant(institution)


def test_a_new_institution_gives_times_in_johannesburg(institution):
    assert institution.time_zone == "Africa/Johannesburg"
    assert moment_text(INSTANT) == "4 May 2027, 14:05 SAST"
    assert moment_text(INSTANT, "Y-m-d H:i:s") == "2027-05-04 14:05:03 SAST"


def test_times_follow_the_institutions_zone(institution):
    _use_zone(institution, "Asia/Tokyo")
    assert moment_text(INSTANT) == "4 May 2027, 21:05 JST"
    assert zone_description(institution_zone(), INSTANT) == "Asia/Tokyo (JST, UTC+09:00)"


def test_a_zone_without_letters_is_labelled_with_its_offset(institution):
    zone = ZoneInfo("Asia/Dubai")  # the tz database writes it "+04"
    assert zone_label(INSTANT, zone) == "UTC+04"
    assert moment_text(INSTANT, zone=zone) == "4 May 2027, 16:05 UTC+04"
    assert zone_description(zone, INSTANT) == "Asia/Dubai (UTC+04:00)"


def test_a_zone_entered_by_schema_name_alone_is_read_from_the_institution(institution):
    _use_zone(institution, "Europe/London")
    connection.set_schema(institution.schema_name)  # a stand-in tenant without the field
    assert institution_zone() == ZoneInfo("Europe/London")


def test_the_model_refuses_a_name_that_is_not_a_zone(institution):
    institution.time_zone = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError) as error:
        institution.full_clean()
    assert "is not a time zone" in str(error.value.message_dict["time_zone"])


def test_the_choice_is_of_places_and_utc():
    names = time_zone_names()
    assert {"Africa/Johannesburg", "Europe/London", "UTC"} <= names
    assert not {"Factory", "posixrules", "localtime", "US/Eastern"} & names


def test_the_settings_page_offers_the_zones_and_shows_the_current_one(super_admin_client):
    page = super_admin_client.get("/settings/").content.decode()
    assert (
        '<option value="Africa/Johannesburg" selected>Africa/Johannesburg (UTC+02:00)</option>'
        in page
    )
    assert '<option value="America/Argentina/Buenos_Aires">America/Argentina/Buenos Aires' in page
    assert '<optgroup label="Europe">' in page
    assert "labelled with it (e.g. 14:05 SAST)" in page


def test_a_super_admin_changes_the_zone_and_the_change_is_audited(institution, super_admin_client):
    response = super_admin_client.post("/settings/", _form(time_zone="Asia/Tokyo"))
    assert response.status_code == 302
    institution.refresh_from_db()
    assert institution.time_zone == "Asia/Tokyo"
    event = AuditEvent.objects.get(action="institution.profile_updated")
    assert event.old_values == {"time_zone": "Africa/Johannesburg"}
    assert event.new_values == {"time_zone": "Asia/Tokyo"}


def test_an_unknown_zone_is_refused_beside_the_field(institution, super_admin_client):
    response = super_admin_client.post("/settings/", _form(time_zone="Mars/Olympus_Mons"))
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    institution.refresh_from_db()
    assert institution.time_zone == "Africa/Johannesburg"


def test_a_form_sent_without_the_zone_keeps_it(institution, super_admin_client):
    Institution.objects.filter(pk=institution.pk).update(time_zone="Asia/Tokyo")
    form = _form(signing_link_days="20")
    del form["time_zone"]
    assert super_admin_client.post("/settings/", form).status_code == 302
    institution.refresh_from_db()
    assert (institution.time_zone, institution.signing_link_days) == ("Asia/Tokyo", 20)


def test_pages_give_times_in_the_institutions_zone_with_its_label(
    institution, client_of, super_admin_client
):
    person = UserFactory(roles=[SystemRole.STUDENT], last_login=INSTANT)
    admin = UserFactory(roles=[SystemRole.ADMIN])
    page = client_of(admin).get(f"/accounts/people/{person.pk}/").content.decode()
    assert "4 May 2027 14:05 SAST" in page

    super_admin_client.post("/settings/", _form(time_zone="Asia/Tokyo"))
    page = client_of(admin).get(f"/accounts/people/{person.pk}/").content.decode()
    assert "4 May 2027 21:05 JST" in page
    assert "14:05" not in page


def test_the_zone_of_a_page_ends_with_its_request(institution, client_of):
    _use_zone(institution, "Asia/Tokyo")
    client_of(UserFactory(roles=[SystemRole.ADMIN])).get("/accounts/people/")
    assert timezone.get_current_timezone_name() == "Africa/Johannesburg"  # settings.TIME_ZONE


def test_a_task_runs_in_the_zone_of_its_institution(institution):
    _use_zone(institution, "Asia/Tokyo")
    assert current_time_zone.apply().get() == "Asia/Tokyo"
    assert timezone.get_current_timezone_name() == "Africa/Johannesburg"


def test_the_platforms_own_site_and_tasks_use_the_platforms_zone(settings, institution):
    settings.TIME_ZONE = "UTC"
    _use_zone(institution, "Asia/Tokyo")
    connection.set_schema_to_public()
    assert current_time_zone.apply().get() == "UTC"
    assert institution_zone(Institution.objects.get(schema_name="public")) == ZoneInfo("UTC")
