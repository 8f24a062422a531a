"""The catalogue's pages: each renders for who manages the catalogue and is a 404 for anyone
else; forms put the services' refusals next to their field (a cycle's path, an overlapping
year); the catalogue import previews before it writes, all or nothing; the cohort form picks
a programme."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from academics.forms import CatalogueImportForm
from academics.imports import MAX_FILE_BYTES, MAX_XLSX_UNPACKED_BYTES
from academics.models import AcademicSession, Course, CoursePrerequisite, Programme
from academics.services import academic_session_create, academic_year_create
from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.models import Cohort
from tests.factories import CohortFactory, CourseFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(admin):
    """A programme with two courses (EL102 requires EL101), a year with its session, a closure."""
    programme = ProgrammeFactory(code="EE01", name="Electrical Engineering")
    basics = CourseFactory(programme=programme, code="EL101", name="Wiring basics")
    advanced = CourseFactory(programme=programme, code="EL102", name="Installations")
    CoursePrerequisite.objects.create(course=advanced, prerequisite_course=basics)
    year = academic_year_create(
        actor=admin,
        fields={
            "name": "2027",
            "starts_on": datetime.date(2027, 1, 1),
            "ends_on": datetime.date(2027, 12, 31),
        },
    )
    session = academic_session_create(
        actor=admin,
        fields={
            "academic_year": year,
            "name": "Term 1",
            "code": "2027-T1",
            "start_date": datetime.date(2027, 1, 15),
            "end_date": datetime.date(2027, 3, 31),
        },
    )
    return programme, basics, advanced, year, session


def _pages(catalogue) -> list[str]:
    programme, basics, _, year, session = catalogue
    return [
        "/academics/",
        "/academics/programmes/new/",
        f"/academics/programmes/{programme.pk}/",
        f"/academics/programmes/{programme.pk}/edit/",
        f"/academics/programmes/{programme.pk}/courses/new/",
        f"/academics/courses/{basics.pk}/",
        f"/academics/courses/{basics.pk}/edit/",
        f"/academics/courses/{basics.pk}/delete/",
        "/academics/faculties/",
        "/academics/faculties/new/",
        "/academics/departments/new/",
        "/academics/years/",
        "/academics/years/new/",
        f"/academics/years/{year.pk}/edit/",
        "/academics/sessions/new/",
        f"/academics/sessions/{session.pk}/edit/",
        "/academics/closures/",
        "/academics/closures/new/",
        "/academics/import/",
    ]


def test_every_page_renders_for_who_manages_the_catalogue(admin_client, catalogue):
    for url in _pages(catalogue):
        assert admin_client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [SystemRole.TRAINER, SystemRole.MODERATOR, SystemRole.STUDENT])
def test_anyone_else_gets_404(role, client_of, catalogue):
    client = client_of(UserFactory(roles=[role]))
    for url in _pages(catalogue):
        assert client.get(url).status_code == 404, url
    programme = catalogue[0]
    response = client.post("/academics/programmes/new/", {"name": "X", "code": "X1"})
    assert response.status_code == 404
    assert not Programme.objects.filter(code="X1").exists()
    assert client.post(f"/academics/programmes/{programme.pk}/delete/").status_code == 404
    assert Programme.objects.filter(pk=programme.pk).exists()


def test_an_unknown_id_is_404(admin_client):
    assert admin_client.get("/academics/programmes/999999/").status_code == 404
    assert admin_client.get("/academics/courses/999999/").status_code == 404


def test_the_programme_page_lists_its_courses_and_their_prerequisites(admin_client, catalogue):
    programme = catalogue[0]
    text = admin_client.get(f"/academics/programmes/{programme.pk}/").content.decode()
    assert "Wiring basics" in text
    assert "Installations" in text
    assert "EL101" in text


def test_a_programme_is_created_through_the_form(admin_client):
    response = admin_client.post(
        "/academics/programmes/new/",
        {
            "name": "Plumbing",
            "code": "PL01",
            "degree_type": "learnership",
            "duration_years": "1.5",
            "total_credits": "130",
            "nqf_level": "3",
            "is_active": "on",
        },
    )
    programme = Programme.objects.get(code="PL01")
    assert response.status_code == 302
    assert response["Location"] == f"/academics/programmes/{programme.pk}/"
    assert AuditEvent.objects.filter(action="programme.created", entity_id=programme.pk).exists()


def test_a_taken_code_is_shown_next_to_the_field(admin_client, catalogue):
    response = admin_client.post(
        "/academics/programmes/new/",
        {"name": "Again", "code": "EE01", "degree_type": "other", "duration_years": "1",
         "total_credits": "10"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "The code EE01 is taken" in response.context["form"].errors["code"][0]


def test_editing_a_course_records_what_changed(admin_client, catalogue):
    basics = catalogue[1]
    response = admin_client.post(
        f"/academics/courses/{basics.pk}/edit/",
        {"code": "EL101", "name": "Wiring basics", "credits": "20", "is_core": "on",
         "is_active": "on", "hours_per_week": "6"},
    )  # fmt: skip
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="course.changed").latest("id")
    assert (event.old_values, event.new_values) == ({"credits": 12}, {"credits": 20})


def test_a_cycle_is_refused_on_the_course_page_with_its_path(admin_client, catalogue):
    _, basics, advanced, _, _ = catalogue
    response = admin_client.post(
        f"/academics/courses/{basics.pk}/", {"prerequisite_course": advanced.pk}
    )
    assert response.status_code == 400
    assert (
        "That would make a cycle: EL101 requires EL102, which requires EL101."
        in response.content.decode()
    )
    assert not CoursePrerequisite.objects.filter(course=basics).exists()


def test_a_prerequisite_is_removed(admin_client, catalogue):
    _, basics, advanced, _, _ = catalogue
    response = admin_client.post(
        f"/academics/courses/{advanced.pk}/prerequisites/{basics.pk}/remove/"
    )
    assert response.status_code == 302
    assert not CoursePrerequisite.objects.exists()


def test_an_overlapping_year_is_refused_naming_the_clash(admin_client, catalogue):
    response = admin_client.post(
        "/academics/years/new/",
        {"name": "2027b", "starts_on": "2027-06-01", "ends_on": "2028-05-31"},
    )
    assert response.status_code == 400
    assert "overlap the academic year 2027" in response.content.decode()


def test_a_session_is_made_current_from_the_years_page(admin_client, admin, catalogue):
    year = catalogue[3]
    second = academic_session_create(
        actor=admin,
        fields={"academic_year": year, "name": "Term 2", "code": "2027-T2",
                "start_date": datetime.date(2027, 4, 10), "end_date": datetime.date(2027, 6, 30)},
    )  # fmt: skip
    admin_client.post(f"/academics/sessions/{second.pk}/current/")
    assert list(AcademicSession.objects.filter(is_current=True)) == [second]


def test_deleting_asks_first_and_refuses_a_used_programme(admin_client, catalogue):
    programme = catalogue[0]
    page = admin_client.get(f"/academics/programmes/{programme.pk}/delete/")
    assert "This cannot be undone" in page.content.decode()
    response = admin_client.post(f"/academics/programmes/{programme.pk}/delete/", follow=True)
    assert "make it inactive instead" in response.content.decode()
    assert Programme.objects.filter(pk=programme.pk).exists()


def test_the_closures_page_shows_holidays_and_closures(admin_client, admin):
    admin_client.post(
        "/academics/closures/new/",
        {"name": "Winter recess", "starts_on": "2027-07-05", "ends_on": "2027-07-09"},
    )
    text = admin_client.get("/academics/closures/", {"year": 2027}).content.decode()
    assert "Winter recess" in text
    assert "Freedom Day" in text
    text = admin_client.get("/academics/closures/", {"year": 2022}).content.decode()
    assert "Mon 26 Dec" in text  # Christmas 2022 was a Sunday: observed on the Monday


# The catalogue import

HEADER = ",".join(
    ["programme_code", "programme_name", "qualification_type", "duration_years",
     "total_credits", "nqf_level", "course_code", "course_name", "credits", "core",
     "prerequisites"]
)  # fmt: skip


def _upload(client, text: str, name: str = "catalogue.csv"):
    upload = io.BytesIO(text.encode())
    upload.name = name
    return client.post("/academics/import/", {"file": upload})


def test_an_import_previews_then_creates_the_catalogue(admin_client):
    csv = "\n".join([
        HEADER,
        "PL01,Plumbing,Learnership,1,120,3,PL101,Pipes,12,yes,",
        "PL01,,,,,,PL102,Drains,12,no,PL101",
    ])  # fmt: skip
    response = _upload(admin_client, csv)
    assert response["Location"] == "/academics/import/preview/"
    preview = admin_client.get("/academics/import/preview/")
    assert preview.context["counts"] == {
        "new_programmes": 1, "changed_programmes": 0, "new_courses": 2, "changed_courses": 0,
        "prerequisites": 1,
    }  # fmt: skip
    assert not Programme.objects.filter(code="PL01").exists()
    response = admin_client.post("/academics/import/confirm/")
    assert response.status_code == 302
    programme = Programme.objects.get(code="PL01")
    drains = Course.objects.get(programme=programme, code="PL102")
    assert (drains.is_core, [c.code for c in drains.prerequisites.all()]) == (False, ["PL101"])
    imported = AuditEvent.objects.get(action="catalogue.imported")
    assert imported.new_values["new_courses"] == 2
    assert AuditEvent.objects.filter(action="course.created").count() == 2


def test_an_import_updates_by_code(admin_client, catalogue):
    _upload(admin_client, HEADER + "\nEE01,,,,,,EL101,Wiring basics,16,,")
    assert admin_client.get("/academics/import/preview/").context["counts"]["changed_courses"] == 1
    admin_client.post("/academics/import/confirm/")
    assert Course.objects.get(code="EL101").credits == 16


def test_an_import_with_a_refused_row_imports_nothing(admin_client, catalogue):
    csv = "\n".join([
        HEADER,
        "PL01,Plumbing,Learnership,1,120,3,PL101,Pipes,12,yes,",
        "PL01,,,,,,PL102,Drains,,maybe,PL999",
        "EE01,,,,,,EL103,Faults,10,yes,EL102",
        "EE01,,,,,,EL101,,,,EL103",
    ])  # fmt: skip
    _upload(admin_client, csv)
    preview = admin_client.get("/academics/import/preview/")
    errors = {row.number: row.errors for row in preview.context["plan"].rows}
    assert errors[2] == []
    assert "a new course needs credits" in errors[3]
    assert "core must be yes (core) or no (elective)" in errors[3]
    assert "prerequisite PL999 is not a course of PL01" in errors[3]
    assert errors[5] == [
        "That would make a cycle: EL101 requires EL103, which requires EL102, which requires EL101."
    ]
    assert "Nothing is imported until every row is right" in preview.content.decode()
    response = admin_client.post("/academics/import/confirm/", follow=True)
    assert "nothing was imported" in response.content.decode()
    assert not Programme.objects.filter(code="PL01").exists()
    assert not AuditEvent.objects.filter(action="catalogue.imported").exists()


def test_an_xlsx_file_is_read_by_its_content(admin_client):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["BK01", "Bookkeeping", "short_course", 0.5, 20, None, "BK1", "Ledgers", 20,
                  "yes", None])  # fmt: skip
    content = io.BytesIO()
    workbook.save(content)
    content.seek(0)
    content.name = "catalogue.csv"  # the name is not believed
    admin_client.post("/academics/import/", {"file": content})
    admin_client.post("/academics/import/confirm/")
    programme = Programme.objects.get(code="BK01")
    assert str(programme.duration_years) == "0.5"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty"),
        ("name,email\nA,b@example.org", "missing: programme_code"),
        ("%PDF-1.4 junk", "This is not a spreadsheet"),
        (HEADER, "no rows under it"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(admin_client, content, message):
    response = _upload(admin_client, content)
    assert response.status_code == 400
    assert message in response.content.decode()


class _Unreadable(SimpleUploadedFile):
    """An upload that must be refused by its size alone."""

    def read(self, *args, **kwargs):
        raise AssertionError("read before its size was checked")

    def chunks(self, *args, **kwargs):
        raise AssertionError("read before its size was checked")


def test_a_file_too_large_is_refused_by_its_size_before_it_is_read(admin_client):
    upload = _Unreadable("catalogue.csv", b"x", "text/csv")
    upload.size = MAX_FILE_BYTES + 1
    form = CatalogueImportForm(data={}, files={"file": upload})
    assert not form.is_valid()
    assert form.errors["file"] == ["The file is larger than 2 MB."]

    response = _upload(admin_client, HEADER + "\n" + "x" * MAX_FILE_BYTES)
    assert response.status_code == 400
    assert "The file is larger than 2 MB." in response.content.decode()


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_it_is_opened(admin_client):
    workbook = Workbook()
    workbook.active.append(HEADER.split(","))
    workbook.active.append(["BK01", "Bookkeeping", "short_course", 1, 20, None, "BK1",
                            "Ledgers", 20, "yes", None])  # fmt: skip
    content = io.BytesIO()
    workbook.save(content)
    with zipfile.ZipFile(content, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (MAX_XLSX_UNPACKED_BYTES + 1))
    assert len(content.getvalue()) < MAX_FILE_BYTES  # small to upload, huge unpacked
    content.seek(0)
    content.name = "catalogue.xlsx"

    response = admin_client.post("/academics/import/", {"file": content})

    assert response.status_code == 400
    assert "The Excel file unpacks to more than 20 MB" in response.content.decode()
    assert not Programme.objects.filter(code="BK01").exists()


def test_the_templates_download(admin_client):
    csv = admin_client.get("/academics/import/template.csv")
    assert csv.content.decode("utf-8-sig").startswith("programme_code,programme_name")
    xlsx = admin_client.get("/academics/import/template.xlsx")
    assert xlsx.content[:2] == b"PK"
    assert admin_client.get("/academics/import/template.pdf").status_code == 404


# The cohort form's programme picker


def test_a_cohort_picks_an_active_programme(admin_client, catalogue):
    retired = ProgrammeFactory(is_active=False, name="Retired programme")
    page = admin_client.get("/cohorts/new/").content.decode()
    assert "Electrical Engineering" in page
    assert "Retired programme" not in page
    cohort = CohortFactory(active=True)
    response = admin_client.post(
        f"/cohorts/{cohort.pk}/edit/",
        {
            "name": cohort.name,
            "program_type": cohort.program_type,
            "programme": catalogue[0].pk,
            "start_date": cohort.start_date.isoformat(),
            "end_date": cohort.end_date.isoformat(),
            "student_count": cohort.student_count,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    cohort.refresh_from_db()
    assert cohort.programme == catalogue[0]
    event = AuditEvent.objects.filter(action="cohort.updated", entity_id=cohort.pk).latest("id")
    assert event.new_values == {"programme": catalogue[0].pk}
    # Once chosen, an active cohort's programme stays.
    admin_client.post(
        f"/cohorts/{cohort.pk}/edit/",
        {"name": cohort.name, "programme": retired.pk, "start_date": cohort.start_date.isoformat(),
         "end_date": cohort.end_date.isoformat(), "student_count": cohort.student_count},
    )  # fmt: skip
    assert Cohort.objects.get(pk=cohort.pk).programme == catalogue[0]
