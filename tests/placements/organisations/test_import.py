"""Importing organisations from a register's extract: reading (type by content, limits,
GIAS headings), the row-by-row plan, and the import itself (refused rows left out, coordinates
IMPORTED, addresses without them looked up)."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from audit.models import AuditEvent
from placements.models import GeocodeStatus, Organisation
from placements.organisation_imports import (
    MAX_ROWS,
    organisation_plan,
    organisation_rows_read,
    organisation_template,
)
from placements.services.organisations import organisations_import
from tests.placements.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

HEADER = "urn,name,address_1,town,postcode,latitude,longitude,email,phone,school,employer"


def _csv(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def test_a_csv_and_an_xlsx_are_read_with_gias_headings():
    rows = organisation_rows_read(
        _xlsx(
            [
                ["URN", "EstablishmentName", "Street", "Town", "Postcode", "TelephoneNum", "Other"],
                [100234, "Soweto Secondary", "12 Vilakazi Street", "Soweto", 1804, "011 555", "x"],
            ]
        )
    )
    assert rows == [
        (
            2,
            {
                "urn": "100234",
                "name": "Soweto Secondary",
                "address_1": "12 Vilakazi Street",
                "town": "Soweto",
                "postcode": "1804",
                "phone": "011 555",
            },
        )
    ]
    assert organisation_rows_read(_csv("1,A School,,,,,,,,yes,no"))[0][1]["name"] == "A School"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"%PDF-1.4 not a sheet", "not a spreadsheet"),
        (b"name,town\nA,B\n", "at least name and urn or code"),
        (HEADER.encode() + b"\n", "no rows under it"),
        (_csv(*["1,A,,,,,,,,yes,"] * (MAX_ROWS + 1)), "more than 5,000 rows"),
    ],
)
def test_files_that_cannot_be_imported_are_refused_with_a_reason(content, message):
    with pytest.raises(ValidationError, match=message):
        organisation_rows_read(content)


def test_an_xlsx_that_unpacks_too_large_is_refused_before_it_is_opened():
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * (41 * 1024 * 1024))
    with pytest.raises(ValidationError, match="unpacks to more than"):
        organisation_rows_read(output.getvalue())


def test_the_templates_read_back():
    for kind in ("csv", "xlsx"):
        rows = organisation_rows_read(organisation_template(kind))
        assert rows[0][1]["name"] == "Soweto Secondary School"


def test_the_plan_says_what_each_row_does_and_why_one_is_refused(institution, settings):
    settings.GEOCODER_URL = ""
    existing = OrganisationFactory(urn="100001", name="Old name")
    rows = organisation_rows_read(
        _csv(
            "100001,New name,,,,,,,,,",
            "100002,Orlando Primary,1 Main Road,Soweto,1804,-26.23,27.9,o@school.example,,yes,",
            "100003,Bad Coordinates,,,,-95,27,,,yes,",
            "100002,Twice,,,,,,,,yes,",
            ",No Reference,,,,,,,,yes,",
            "100004,Nothing Said,,,,,,,,,",
            "100005,Bad Mail,,,,,,not-mail,,yes,",
        )
    )
    plan = organisation_plan(rows, geocoding=False)
    results = {row.number: row.result for row in plan.rows}
    assert results[2] == "Updates the organisation"
    assert plan.rows[0].existing == existing
    assert results[3] == "New organisation; coordinates imported"
    assert results[4] == "Refused: latitude must be between -90 and 90"
    assert results[5] == "Refused: the same organisation as row 3"
    assert results[6].startswith("Refused: give a urn or a code")
    assert results[7] == "Refused: say what it is: school, provider or employer must be yes"
    assert results[8] == "Refused: email: Enter a valid email address."
    assert (plan.creates, plan.updates, plan.refused) == (1, 1, 5)


def test_confirming_writes_the_good_rows_and_leaves_the_refused_out(admin, settings):
    settings.GEOCODER_URL = ""
    OrganisationFactory(urn="100001", name="Old name", phone="1")
    rows = organisation_rows_read(
        _csv(
            "100001,New name,,,,,,,,,",
            "100002,Orlando Primary,1 Main Road,Soweto,1804,-26.23,27.9,o@school.example,,yes,",
            "100003,Bad Coordinates,,,,-95,27,,,yes,",
        )
    )

    counts = organisations_import(actor=admin, rows=rows)

    assert counts == {"created": 1, "updated": 1, "refused": 1}
    updated = Organisation.objects.get(urn="100001")
    assert (updated.name, updated.phone) == ("New name", "1")  # empty cells leave values
    created = Organisation.objects.get(urn="100002")
    assert created.geocode_status == GeocodeStatus.IMPORTED
    assert created.address.town == "Soweto"
    assert (created.latitude, created.longitude) == (-26.23, 27.9)
    assert not Organisation.objects.filter(urn="100003").exists()
    event = AuditEvent.objects.get(action="organisations.imported")
    assert event.new_values == {"created": 1, "updated": 1, "refused": 1, "rows": 3}
    # Importing the same file again changes nothing new.
    assert organisations_import(actor=admin, rows=rows) == {
        "created": 0,
        "updated": 2,
        "refused": 1,
    }
    assert Organisation.objects.filter(urn="100002").count() == 1


def test_an_address_without_coordinates_is_looked_up(
    admin, geocoder, eager, django_capture_on_commit_callbacks
):
    geocoder.add("1 Main Road, Soweto, 1804, ZA", -26.23, 27.9)
    rows = organisation_rows_read(_csv("100010,Orlando Primary,1 Main Road,Soweto,1804,,,,,yes,"))
    assert organisation_plan(rows, geocoding=True).rows[0].result == (
        "New organisation; the address will be looked up"
    )

    with django_capture_on_commit_callbacks(execute=True):
        organisations_import(actor=admin, rows=rows)

    organisation = Organisation.objects.get(urn="100010")
    assert organisation.geocode_status == GeocodeStatus.FOUND
    assert organisation.latitude == -26.23


def test_entered_coordinates_are_kept_by_an_import(admin, settings):
    settings.GEOCODER_URL = ""
    OrganisationFactory(urn="100020", latitude=-26.0, longitude=28.0, geocode_status="entered")
    rows = organisation_rows_read(_csv("100020,Kept,,,,-29,31,,,,"))
    assert organisation_plan(rows, geocoding=False).rows[0].result == (
        "Updates the organisation; keeps the coordinates entered by hand"
    )
    organisations_import(actor=admin, rows=rows)
    organisation = Organisation.objects.get(urn="100020")
    assert (organisation.latitude, organisation.geocode_status) == (-26.0, "entered")
