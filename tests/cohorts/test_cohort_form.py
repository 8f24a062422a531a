"""The cohort form: the sponsor's address is never typed (it is the chosen sponsor's contact),
at least one student is expected, each field says what it is for, and each error is a
sentence that does not repeat the help."""

import re

import pytest
from django.core.exceptions import ValidationError

from cohorts.forms import CohortForm
from cohorts.models import Cohort
from cohorts.services import cohort_create, cohort_update
from sponsors.services import cohort_sponsor_set, sponsor_create
from tests.factories import CohortFactory

pytestmark = pytest.mark.django_db

VALID = {
    "name": "2027 Internship",
    "program_type": "internship",
    "start_date": "2027-03-01",
    "end_date": "2027-08-31",
    "student_count": "12",
}


def errors_of(page: str) -> list[str]:
    """The field errors a page shows, in order (crispy forms: one <p> for each)."""
    return re.findall(r'<p id="error_\d+_id_\w+"><strong>(.*?)</strong></p>', page)


def test_the_form_has_no_sponsor_address_and_ignores_one_sent(admin_client):
    page = admin_client.get("/cohorts/new/").content.decode()
    assert 'name="sponsor_email"' not in page
    assert "Chosen on the cohort's page once the draft is created" in page

    admin_client.post("/cohorts/new/", {**VALID, "sponsor_email": "typed@elsewhere.example"})

    assert Cohort.objects.get(name="2027 Internship").sponsor_email == ""


def test_a_cohorts_edit_page_names_its_sponsor_and_keeps_the_contacts_address(admin_client, admin):
    cohort = CohortFactory(created_by=admin)
    sponsor = sponsor_create(
        actor=admin,
        company_name="Ubuntu Mining",
        contact_name="Sipho Dlamini",
        contact_email="sipho@ubuntu.example",
    )
    cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)

    page = admin_client.get(f"/cohorts/{cohort.pk}/edit/").content.decode()
    admin_client.post(
        f"/cohorts/{cohort.pk}/edit/",
        {**VALID, "name": cohort.name, "sponsor_email": "typed@elsewhere.example"},
    )

    assert "Ubuntu Mining</span>: its notices and signing links go to its contact, Sipho" in page
    assert f'href="/cohorts/{cohort.pk}/#sponsor"' in page
    assert 'name="sponsor_email"' not in page
    cohort.refresh_from_db()
    assert cohort.sponsor_email == "sipho@ubuntu.example"


def test_the_services_refuse_a_typed_sponsor_or_address(admin):
    with pytest.raises(ValidationError) as created:
        cohort_create(
            actor=admin, name="X", program_type="internship", student_count=3,
            start_date="2027-03-01", end_date="2027-08-31", sponsor_email="typed@x.example",
        )  # fmt: skip
    cohort = CohortFactory()
    with pytest.raises(ValidationError) as updated:
        cohort_update(cohort=cohort, actor=admin, changes={"sponsor_email": "typed@x.example"})

    for error in (created, updated):
        assert list(error.value.message_dict) == ["sponsor_email"]
    assert not Cohort.objects.filter(name="X").exists()
    cohort.refresh_from_db()
    assert cohort.sponsor_email == ""


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "A cohort expects at least 1 student."),
        ("-3", "A cohort expects at least 1 student."),
        ("100001", "A cohort expects at most 100,000 students."),
        ("twelve", "Enter a whole number, such as 25."),
        ("", "Enter the number of students you expect."),
    ],
)
def test_a_cohort_expects_at_least_one_student(admin_client, typed, message):
    response = admin_client.post("/cohorts/new/", {**VALID, "student_count": typed})

    assert errors_of(response.content.decode()) == [message]
    assert not Cohort.objects.filter(name=VALID["name"]).exists()


def test_the_services_refuse_a_cohort_expecting_nobody(admin):
    cohort = CohortFactory()

    with pytest.raises(ValidationError) as refused:
        cohort_update(cohort=cohort, actor=admin, changes={"student_count": 0})

    assert refused.value.message_dict == {"student_count": ["A cohort expects at least 1 student."]}


def test_a_new_cohort_starts_from_one_expected_student(admin_client):
    page = admin_client.get("/cohorts/new/").content.decode()

    field = re.search(r'<input[^>]*name="student_count"[^>]*>', page).group(0)
    assert 'value="1"' in field
    assert 'min="1"' in field


def test_every_field_says_what_it_is_for(institution):
    form = CohortForm()

    for name, field in form.fields.items():
        assert len(field.help_text) > 30, f"{name} has no help text saying what it is for"


def test_the_errors_of_an_empty_form_are_sentences_that_do_not_repeat_the_help(admin_client):
    page = admin_client.post("/cohorts/new/", {"end_date": "someday"}).content.decode()
    backwards = admin_client.post(
        "/cohorts/new/", {**VALID, "start_date": "2027-08-31", "end_date": "2027-03-01"}
    ).content.decode()

    errors = errors_of(page) + errors_of(backwards)
    assert errors == [
        "Enter the cohort&#x27;s name.",
        "Choose the kind of programme.",
        "Enter the date the programme starts.",
        "Enter the date as year-month-day, such as 2027-11-30.",
        "Enter the number of students you expect.",
        "The cohort cannot end before it starts.",
    ]
    help_texts = [str(field.help_text) for field in CohortForm().fields.values()]
    for error in errors:
        assert error.endswith(".")
        assert ".." not in error
        assert not any(error.rstrip(".") in help_text for help_text in help_texts)
