"""The organisation pages through the test client: who may see and change what (refusals
are 404s), the forms' refusals beside their fields, the import's preview and confirmation,
the learner location page, and the list's queries not growing with its rows."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role, SystemRole
from learners.models import Learner
from placements.models import (
    GeocodeStatus,
    LearnerLocation,
    Organisation,
    OrganisationContact,
    Placement,
)
from placements.services.geocoding import learner_location_enter, learner_location_lookup
from sponsors.models import Sponsor
from tests.factories import UserFactory
from tests.placements.factories import (
    ContactFactory,
    OrganisationFactory,
    academic_year,
    subject,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainer_client(client_of, institution):
    return client_of(UserFactory(roles=[SystemRole.TRAINER]))


def _url(name: str, *args) -> str:
    return reverse(f"placements:{name}", args=args)


def test_pages_are_404_for_someone_without_the_permission(trainer_client):
    organisation = OrganisationFactory()
    contact = ContactFactory(organisation=organisation)
    learner = Learner.objects.create(first_name="Sipho")
    for url in [
        _url("organisation_list"),
        _url("organisation_create"),
        _url("organisation_detail", organisation.pk),
        _url("organisation_edit", organisation.pk),
        _url("organisation_address", organisation.pk),
        _url("organisation_coordinates", organisation.pk),
        _url("organisation_deactivate", organisation.pk),
        _url("organisation_contact_add", organisation.pk),
        _url("organisation_contact_edit", organisation.pk, contact.pk),
        _url("organisation_contact_remove", organisation.pk, contact.pk),
        _url("organisation_import"),
        _url("organisation_import_template", "csv"),
        _url("learner_location", learner.pk),
    ]:
        assert trainer_client.get(url).status_code == 404, url
    assert trainer_client.post(_url("organisation_lookup", organisation.pk)).status_code == 404
    assert trainer_client.post(_url("organisation_deactivate", organisation.pk)).status_code == 404
    organisation.refresh_from_db()
    assert organisation.is_active


def test_a_visitor_is_sent_to_sign_in(client_for, institution):
    response = client_for(institution).get(_url("organisation_list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_missing_ids_and_another_organisations_contact_are_404(admin_client):
    organisation = OrganisationFactory()
    elsewhere = ContactFactory()
    assert admin_client.get(_url("organisation_detail", 999999)).status_code == 404
    assert (
        admin_client.get(
            _url("organisation_contact_edit", organisation.pk, elsewhere.pk)
        ).status_code
        == 404
    )
    assert admin_client.get(_url("learner_location", 999999)).status_code == 404
    assert admin_client.get(_url("organisation_import_template", "pdf")).status_code == 404


def test_the_list_searches_and_filters(admin_client):
    OrganisationFactory(name="Soweto Secondary", urn="100234")
    OrganisationFactory(name="Acme Mining", school=False, employer=True, code="ACME")
    OrganisationFactory(name="Lost School", latitude=None, longitude=None, geocode_status="failed")
    OrganisationFactory(name="Closed School", is_active=False)

    def names(**query) -> list[str]:
        response = admin_client.get(_url("organisation_list"), query)
        assert response.status_code == 200
        return [o.name for o in response.context["page"].object_list]

    assert names(q="soweto") == ["Soweto Secondary"]
    assert names(q="100234") == ["Soweto Secondary"]
    assert names(q="acme") == ["Acme Mining"]
    assert names(kind="employer") == ["Acme Mining"]
    assert names(active="no") == ["Closed School"]
    assert names(coordinates="flagged") == ["Lost School"]
    empty = admin_client.get(_url("organisation_list"), {"q": "nothing like it"})
    assert "No organisation matches these filters." in empty.content.decode()


def test_the_map_draws_points_inside_south_africa(admin_client):
    OrganisationFactory(name="Joburg")
    OrganisationFactory(name="London", latitude=51.5, longitude=-0.1)
    OrganisationFactory(name="Nowhere", latitude=None, longitude=None, geocode_status="")
    response = admin_client.get(_url("organisation_list"), {"view": "map"})
    drawn = response.context["map"]
    assert (len(drawn.points), drawn.outside, drawn.missing) == (1, 1, 1)
    assert "<circle" in response.content.decode()


def test_the_lists_queries_do_not_grow_with_its_rows(admin_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(_url("organisation_list")).status_code == 200
        return len(captured)

    OrganisationFactory.create_batch(2)
    few = queries()
    OrganisationFactory.create_batch(10)
    assert queries() == few


def test_an_organisation_is_created_from_the_form(admin_client, settings):
    settings.GEOCODER_URL = ""
    response = admin_client.post(
        _url("organisation_create"),
        {
            "name": "Orlando Primary",
            "school": "on",
            "urn": "100300",
            "address-address_1": "1 Main Road",
            "address-town": "Soweto",
            "address-country": "ZA",
            "coordinates-latitude": "-26.23",
            "coordinates-longitude": "27.9",
        },
    )
    organisation = Organisation.objects.get(urn="100300")
    assert response.status_code == 302
    assert response["Location"] == organisation.get_absolute_url()
    assert organisation.geocode_status == GeocodeStatus.ENTERED
    page = admin_client.get(organisation.get_absolute_url()).content.decode()
    assert "1 Main Road" in page
    assert "Entered by hand" in page


def test_the_create_form_shows_refusals_beside_their_fields(admin_client):
    OrganisationFactory(urn="100400")
    response = admin_client.post(
        _url("organisation_create"),
        {"name": "Copy", "school": "on", "urn": "100400", "coordinates-latitude": "-26"},
    )
    assert response.status_code == 400
    assert "Give both the latitude and the longitude, or neither." in response.content.decode()
    response = admin_client.post(
        _url("organisation_create"),
        {"name": "Copy", "school": "on", "urn": "100400", "address-country": "ZA"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["urn"] == ["Another organisation has this URN."]
    assert Organisation.objects.filter(name="Copy").count() == 0


def test_a_sponsor_linked_elsewhere_is_refused_on_the_edit_form(admin_client):
    sponsor = Sponsor.objects.create(
        company_name="Acme", contact_name="L D", contact_email="l@acme.example"
    )
    OrganisationFactory(name="Acme School", sponsor=sponsor)
    other = OrganisationFactory(name="Other")
    response = admin_client.post(
        _url("organisation_edit", other.pk),
        {"name": "Other", "school": "on", "sponsor": sponsor.pk},
    )
    assert response.status_code == 400
    assert "already linked to Acme School" in response.context["forms"][0].errors["sponsor"][0]


def test_editing_saves_the_organisation_and_its_details(admin_client):
    organisation = OrganisationFactory(name="Old")
    response = admin_client.post(
        _url("organisation_edit", organisation.pk),
        {
            "name": "New",
            "employer": "on",
            "detail-sector": "Retail",
            "detail-website": "shop.example",
        },
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert (organisation.name, organisation.employer, organisation.school) == ("New", True, False)
    assert organisation.detail.sector == "Retail"
    assert organisation.detail.website == "https://shop.example"


def test_an_address_change_flags_looked_up_coordinates(admin_client, settings):
    settings.GEOCODER_URL = ""
    organisation = OrganisationFactory(geocode_status=GeocodeStatus.FOUND)
    admin_client.post(
        _url("organisation_address", organisation.pk),
        {"address_1": "2 New Road", "town": "Durban", "country": "ZA"},
    )
    page = admin_client.get(organisation.get_absolute_url()).content.decode()
    assert "Address changed since the lookup" in page
    assert "they may be of the old address" in page


def test_coordinates_are_entered_on_their_page(admin_client):
    organisation = OrganisationFactory(latitude=None, longitude=None, geocode_status="")
    response = admin_client.post(
        _url("organisation_coordinates", organisation.pk), {"latitude": "-91", "longitude": "28"}
    )
    assert response.status_code == 400
    admin_client.post(
        _url("organisation_coordinates", organisation.pk), {"latitude": "-26.1", "longitude": "28"}
    )
    organisation.refresh_from_db()
    assert (organisation.latitude, organisation.geocode_status) == (-26.1, "entered")


def test_deactivating_with_open_placements_is_refused_with_a_link_to_them(admin_client):
    contact = ContactFactory(organisation__name="Hillview High")
    organisation = contact.organisation
    for _ in range(2):
        Placement.objects.create(
            learner=Learner.objects.create(first_name="Sipho"),
            organisation=organisation,
            academic_year=academic_year("2027"),
            subject=subject("MATH"),
            starts_on=datetime.date(2027, 2, 1),
            ends_on=datetime.date(2027, 6, 30),
        )
    listed = f"{_url('placement_list')}?organisation={organisation.pk}"

    page = admin_client.get(_url("organisation_deactivate", organisation.pk)).content.decode()
    assert "it has 2 proposed, confirmed or active placements" in page
    assert f'href="{listed}"' in page
    assert ">Deactivate</button>" not in page

    refused = admin_client.post(_url("organisation_deactivate", organisation.pk))
    assert refused.status_code == 200
    assert "Hillview High has 2 open placements" in refused.content.decode()
    assert f'href="{listed}"' in refused.content.decode()
    organisation.refresh_from_db()
    assert organisation.is_active
    assert admin_client.get(listed).status_code == 200


def test_asking_for_a_lookup_without_a_geocoder_says_so(admin_client, settings):
    settings.GEOCODER_URL = ""
    organisation = OrganisationFactory()
    response = admin_client.post(_url("organisation_lookup", organisation.pk), follow=True)
    assert "No geocoder is configured" in response.content.decode()


def test_deactivating_asks_first(admin_client):
    organisation = OrganisationFactory()
    page = admin_client.get(_url("organisation_deactivate", organisation.pk)).content.decode()
    assert f"Deactivate {organisation.name}?" in page
    organisation.refresh_from_db()
    assert organisation.is_active
    admin_client.post(_url("organisation_deactivate", organisation.pk))
    organisation.refresh_from_db()
    assert not organisation.is_active
    assert admin_client.get(_url("organisation_reactivate", organisation.pk)).status_code == 404
    admin_client.post(_url("organisation_reactivate", organisation.pk))
    organisation.refresh_from_db()
    assert organisation.is_active


def test_contacts_are_added_edited_and_removed_after_a_confirmation(admin_client):
    organisation = OrganisationFactory()
    admin_client.post(
        _url("organisation_contact_add", organisation.pk),
        {"first_name": "Thandi", "last_name": "Nkosi", "role": "Placement lead"},
    )
    contact = OrganisationContact.objects.get(organisation=organisation)
    admin_client.post(
        _url("organisation_contact_edit", organisation.pk, contact.pk),
        {"first_name": "Thandiwe", "last_name": "Nkosi", "role": "Mentor"},
    )
    contact.refresh_from_db()
    assert (contact.first_name, contact.role) == ("Thandiwe", "Mentor")
    confirm = admin_client.get(_url("organisation_contact_remove", organisation.pk, contact.pk))
    assert "Remove Thandiwe Nkosi from" in confirm.content.decode()
    assert OrganisationContact.objects.filter(pk=contact.pk).exists()
    admin_client.post(_url("organisation_contact_remove", organisation.pk, contact.pk))
    assert not OrganisationContact.objects.filter(pk=contact.pk).exists()
    response = admin_client.post(
        _url("organisation_contact_add", organisation.pk), {"email_address": "x"}
    )
    assert response.status_code == 400


def test_the_import_previews_then_imports(admin_client, settings):
    settings.GEOCODER_URL = ""
    content = (
        b"urn,name,town,school\n100500,Good School,Soweto,yes\n100501,Bad School,Soweto,maybe\n"
    )
    response = admin_client.post(
        _url("organisation_import"), {"file": SimpleUploadedFile("gias.csv", content)}
    )
    assert response["Location"] == _url("organisation_import_preview")
    preview = admin_client.get(_url("organisation_import_preview")).content.decode()
    assert "Refused: school must be yes or no" in preview
    assert "1 row is refused" in preview
    response = admin_client.post(_url("organisation_import_confirm"), follow=True)
    assert "Imported: 1 new and 0 updated organisations; 1 refused row was left out." in (
        response.content.decode()
    )
    assert list(
        Organisation.objects.filter(urn__in=["100500", "100501"]).values_list("name", flat=True)
    ) == ["Good School"]
    # The rows are gone from the session: the preview asks for a file again.
    assert admin_client.get(_url("organisation_import_preview"))["Location"] == _url(
        "organisation_import"
    )


def test_an_upload_that_is_not_a_spreadsheet_is_refused_on_the_form(admin_client):
    response = admin_client.post(
        _url("organisation_import"),
        {"file": SimpleUploadedFile("x.csv", b"%PDF-1.4\n%%EOF")},
    )
    assert response.status_code == 400
    assert "not a spreadsheet" in response.content.decode()


def test_the_template_downloads(admin_client):
    response = admin_client.get(_url("organisation_import_template", "xlsx"))
    assert response["Content-Disposition"] == 'attachment; filename="organisations-template.xlsx"'


def test_the_learner_location_page_enters_coordinates_and_says_why_none(admin_client, settings):
    settings.GEOCODER_URL = ""
    learner = Learner.objects.create(first_name="Sipho", last_name="Mokoena", city="Soweto")
    page = admin_client.get(_url("learner_location", learner.pk)).content.decode()
    assert "has not been looked up" in page
    assert "Look up from the address" not in page  # no geocoder
    admin_client.post(
        _url("learner_location", learner.pk), {"latitude": "-26.2", "longitude": "27.9"}
    )
    location = LearnerLocation.objects.get(learner=learner)
    assert location.geocode_status == GeocodeStatus.ENTERED
    assert (
        "Used by the distance search."
        in admin_client.get(_url("learner_location", learner.pk)).content.decode()
    )


def test_someone_who_places_learners_may_see_organisations_but_not_change_them(
    client_of, institution
):
    role = Role.objects.create(name="Placer")
    role.permissions.add(*Permission.objects.filter(codename="manage_placements"))
    client = client_of(UserFactory(roles=[role]))
    organisation = OrganisationFactory()
    page = client.get(_url("organisation_detail", organisation.pk))
    assert page.status_code == 200
    assert "Edit address" not in page.content.decode()
    assert client.get(_url("organisation_edit", organisation.pk)).status_code == 404
    learner = Learner.objects.create(first_name="Sipho")
    assert client.get(_url("learner_location", learner.pk)).status_code == 200


def test_managing_organisations_alone_gives_no_sight_of_learners_homes(client_of, institution):
    role = Role.objects.create(name="Host liaison")
    role.permissions.add(*Permission.objects.filter(codename="manage_organisations"))
    user = UserFactory(roles=[role])
    client = client_of(user)
    learner = Learner.objects.create(first_name="Sipho", address_line1="12 Vilakazi Street")
    assert client.get(_url("organisation_list")).status_code == 200
    assert client.get(_url("learner_location", learner.pk)).status_code == 404
    entered = client.post(
        _url("learner_location", learner.pk), {"latitude": "-26.2", "longitude": "27.9"}
    )
    assert entered.status_code == 404
    assert client.post(_url("learner_location_lookup", learner.pk)).status_code == 404
    with pytest.raises(PermissionDenied):
        learner_location_enter(actor=user, learner=learner, latitude=-26.2, longitude=27.9)
    with pytest.raises(PermissionDenied):
        learner_location_lookup(actor=user, learner=learner)
    assert not LearnerLocation.objects.filter(learner=learner).exists()


def test_another_institutions_organisations_are_404(client_for, institution, other_institution):
    connection.set_tenant(institution)  # other_institution left the connection on public
    organisation = OrganisationFactory()
    contact = ContactFactory(organisation=organisation)
    connection.set_tenant(other_institution)
    try:
        other_admin = UserFactory(roles=[SystemRole.ADMIN])
        client = client_for(other_institution)
        client.force_login(other_admin, backend="accounts.backends.RoleBackend")
        for url in [
            _url("organisation_detail", organisation.pk),
            _url("organisation_edit", organisation.pk),
            _url("organisation_contact_edit", organisation.pk, contact.pk),
        ]:
            assert client.get(url).status_code == 404, url
        assert client.post(_url("organisation_deactivate", organisation.pk)).status_code == 404
    finally:
        connection.set_tenant(institution)
    organisation.refresh_from_db()
    assert organisation.is_active
