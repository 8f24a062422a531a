"""The student's details form: every refusal says what is wrong; an ID number fills in the date
of birth and gender."""

import datetime

import pytest

from learners.forms import LearnerDetailsForm
from learners.models import Learner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("institution")]

TODAY = datetime.date(2026, 11, 22)
# 12 April 1999, sequence 5xxx (male), citizen, valid Luhn check digit.
ID_MALE_1999 = "9904125800080"
# 30 March 1975, sequence 0xxx (female), citizen.
ID_FEMALE_1975 = "7503300044084"

VALID = {
    "id_number": "",
    "date_of_birth": "2001-09-24",
    "gender": "female",
    "race": "african",
    "disability": "none",
    "city": "Gqeberha",
    "home_language": "isixhosa",
    "highest_qualification": "matric",
}


def _form(**changes) -> LearnerDetailsForm:
    return LearnerDetailsForm({**VALID, **changes}, today=TODAY)


def _errors(**changes) -> dict[str, list[str]]:
    form = _form(**changes)
    assert not form.is_valid()
    return form.errors


def test_valid_details_become_the_learners_details():
    form = _form()
    assert form.is_valid(), form.errors
    details = form.details()
    assert details["date_of_birth"] == datetime.date(2001, 9, 24)
    assert {name: details[name] for name in ("gender", "race", "disability", "city")} == {
        "gender": "female",
        "race": "african",
        "disability": "none",
        "city": "Gqeberha",
    }
    assert (details["home_language"], details["highest_qualification"]) == ("isixhosa", "matric")
    assert "national_id_number" not in details


def test_test_id_numbers_are_valid():
    from stdnum.za import idnr

    assert idnr.is_valid(ID_MALE_1999)
    assert idnr.is_valid(ID_FEMALE_1975)


def test_id_number_fills_in_date_of_birth_gender_and_citizenship():
    form = _form(id_number="990412 5800 08 0", date_of_birth="", gender="")
    assert form.is_valid(), form.errors
    data = form.details()
    assert (data["national_id_type"], data["national_id_number"]) == ("sa_id", ID_MALE_1999)
    assert data["date_of_birth"] == datetime.date(1999, 4, 12)
    assert data["gender"] == "male"
    assert data["citizenship"] == "citizen"


def test_id_number_gives_female_for_sequence_below_5000():
    form = _form(id_number=ID_FEMALE_1975, date_of_birth="", gender="")
    assert form.is_valid(), form.errors
    assert form.details()["gender"] == "female"
    assert form.details()["date_of_birth"] == datetime.date(1975, 3, 30)


def test_a_chosen_gender_is_kept_even_with_an_id_number():
    form = _form(id_number=ID_MALE_1999, date_of_birth="", gender="non_binary")
    assert form.is_valid(), form.errors
    assert form.details()["gender"] == "non_binary"


def test_date_of_birth_that_differs_from_the_id_number_is_refused():
    errors = _errors(id_number=ID_MALE_1999, date_of_birth="1999-04-21")
    assert errors["date_of_birth"] == [
        "The date of birth does not match your ID number (it says 1999-04-12)."
    ]


def test_matching_date_of_birth_and_id_number_are_accepted():
    assert _form(id_number=ID_MALE_1999, date_of_birth="1999-04-12").is_valid()


def test_id_number_with_a_wrong_check_digit_is_refused():
    errors = _errors(id_number=ID_MALE_1999[:-1] + "1")
    assert "check digit is wrong" in errors["id_number"][0]


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        ("99041258000", "An ID number has 13 digits; this one has 11."),
        ("99041258000871", "An ID number has 13 digits; this one has 14."),
        ("99041258O0087", "An ID number contains digits only."),
    ],
)
def test_id_number_of_the_wrong_shape_is_refused(id_number, message):
    assert _errors(id_number=id_number)["id_number"] == [message]


def test_id_number_without_a_real_date_is_refused():
    # 31 February, with a correct check digit for the rest.
    from stdnum import luhn

    body = "990231580008"
    errors = _errors(id_number=body + luhn.calc_check_digit(body))
    assert "date of birth" in errors["id_number"][0]


def test_date_of_birth_or_id_number_is_required():
    errors = _errors(date_of_birth="")
    assert errors["date_of_birth"] == ["Enter your date of birth, or your ID number to fill it in."]


def test_gender_is_required_without_an_id_number():
    assert _errors(gender="")["gender"] == ["Choose your gender, or “Prefer not to say”."]


def test_date_of_birth_in_the_future_is_refused():
    assert _errors(date_of_birth="2027-01-01")["date_of_birth"] == [
        "The date of birth is in the future."
    ]


def test_a_child_is_refused():
    assert _errors(date_of_birth="2012-01-01")["date_of_birth"] == [
        "You must be at least 15 years old to join a programme."
    ]


def test_an_implausible_age_is_refused():
    assert _errors(date_of_birth="1901-01-01")["date_of_birth"] == [
        "Check the year: that date of birth makes you 125."
    ]


def test_a_malformed_date_is_refused():
    assert _errors(date_of_birth="24/09/2001")["date_of_birth"] == [
        "Enter the date as year-month-day, e.g. 2001-09-24."
    ]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("race", "Choose your population group, or “Prefer not to say”."),
        ("disability", "Choose “None”, a kind of disability, or “Prefer not to say”."),
        ("city", "Enter the city or town where you live."),
        ("home_language", "Choose your home language, or “Other”."),
        ("highest_qualification", "Choose the highest qualification you have completed."),
    ],
)
def test_required_fields_say_what_to_do(field, message):
    assert _errors(**{field: ""})[field] == [message]


@pytest.mark.parametrize(
    "field", ["gender", "race", "disability", "home_language", "highest_qualification"]
)
def test_values_outside_the_lists_are_refused(field):
    assert "Select a valid choice" in _errors(**{field: "martian"})[field][0]


def test_prefer_not_to_say_is_accepted_for_special_information():
    form = _form(race="prefer_not_to_say", disability="prefer_not_to_say")
    assert form.is_valid(), form.errors


def test_city_must_be_a_name():
    assert _errors(city="12345")["city"] == ["Enter the name of a city or town."]


def test_city_spaces_are_tidied():
    form = _form(city="  Port   Elizabeth ")
    assert form.is_valid()
    assert form.details()["city"] == "Port Elizabeth"


def test_initial_values_come_from_the_learner_without_their_number():
    learner = Learner(
        first_name="Aya",
        date_of_birth=datetime.date(2001, 9, 24),
        race="african",
        national_id_type="sa_id",
        national_id_last4="0080",
    )
    form = LearnerDetailsForm(learner=learner)
    assert form.initial["date_of_birth"] == datetime.date(2001, 9, 24)
    assert form.initial["race"] == "african"
    assert "id_number" not in form.initial
    assert "ending 0080" in form.fields["id_number"].help_text
