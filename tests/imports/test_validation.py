"""Every reason a row cannot be imported, each reported against its row number."""

import pytest

from accounts.models import SystemRole
from cohorts.imports.validation import (
    SEALED_NUMBER_KEYS,
    national_id_opened,
    row_clean,
    rows_check,
)
from enrolments.services import enrollment_invite, enrollment_withdraw
from learners.keys import national_id_digest
from tests.factories import UserFactory
from tests.imports.support import id_number, student_row, unique_email

pytestmark = pytest.mark.django_db


def check(cohort, *rows: dict):
    return rows_check(cohort=cohort, rows=list(enumerate(rows, start=2)))


def problems(cohort, row: dict) -> list[str]:
    report = check(cohort, row)
    assert not report.valid
    (invalid,) = report.invalid
    return invalid["messages"]


def test_a_good_row_is_normalised_to_the_stored_values(cohort):
    email = unique_email("Thandi")
    number = id_number()
    report = check(
        cohort,
        student_row(
            full_name="  Thandi   Nkosi ",
            email=f" {email.upper()} ",
            id_number=f"{number[:6]} {number[6:10]} {number[10:]}",
            gender="FEMALE",
            race="Coloured",
            disability="prefer not to say",
        ),
    )

    assert report.invalid == []
    (row,) = report.valid
    sealed = {key: row.pop(key) for key in SEALED_NUMBER_KEYS}
    assert row == {
        "line": 2,
        "full_name": "Thandi Nkosi",
        "email": email.lower(),
        "gender": "female",
        "race": "coloured",
        "disability": "prefer_not_to_say",
    }
    # The number is kept sealed, never in clear: encrypted, its keyed hash, its last four.
    assert number not in str(sealed)
    assert national_id_opened(sealed) == number
    assert sealed["national_id_hash"] == national_id_digest(number, kind="sa_id", country="ZA")
    assert sealed["national_id_last4"] == number[-4:]


def test_optional_columns_may_be_left_empty(cohort):
    report = check(cohort, {"full_name": "A B", "email": unique_email(), "gender": "", "race": ""})

    assert report.invalid == []
    assert set(report.valid[0]) == {"line", "full_name", "email"}


@pytest.mark.parametrize(
    ("column", "message"),
    [("full_name", "Full name is missing."), ("email", "E-mail address is missing.")],
)
def test_a_missing_required_value_is_reported(cohort, column, message):
    assert message in problems(cohort, student_row(**{column: "  "}))


def test_a_name_that_is_too_long_is_reported(cohort):
    assert problems(cohort, student_row(full_name="x" * 201)) == [
        "Full name is longer than 200 characters."
    ]


@pytest.mark.parametrize(
    "email", ["thandi", "thandi@", "thandi@@example.org", "thandi nkosi@example.org", "a@b"]
)
def test_a_malformed_email_address_is_reported(cohort, email):
    assert problems(cohort, student_row(email=email)) == [
        f"“{email}” is not a valid e-mail address."
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("95061200010", "An ID number has 13 digits."),
        ("95061200010AB", "An ID number contains digits only."),
        ("9513120001082", "are not a valid date of birth"),
        (id_number()[:-1] + "X", "contains digits only"),
    ],
    ids=["length", "letters", "date", "letter check digit"],
)
def test_a_bad_id_number_is_reported_with_its_reason(cohort, value, reason):
    (message,) = problems(cohort, student_row(id_number=value))

    assert "ID number" in message
    assert reason in message


def test_an_id_number_with_a_wrong_check_digit_is_reported(cohort):
    good = id_number()
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)

    (message,) = problems(cohort, student_row(id_number=wrong))

    assert message == ("The ID number's check digit is wrong: check it for a typing mistake.")


def test_an_unknown_gender_is_reported_with_the_accepted_values(cohort):
    assert problems(cohort, student_row(gender="F")) == [
        "Gender “F” is not one of: Female, Male, Non-binary, Prefer not to say."
    ]


@pytest.mark.parametrize("column", ["race", "disability"])
def test_an_unknown_race_or_disability_is_reported_without_repeating_the_value(cohort, column):
    (message,) = problems(cohort, student_row(**{column: "Martian"}))

    assert message.startswith(f"{column.capitalize()} is not one of: ")
    assert "Martian" not in message


def test_labels_and_values_of_the_choices_are_accepted_in_any_case():
    cleaned, messages = row_clean(
        {
            "full_name": "A B",
            "email": "ab@example.org",
            "gender": "Non-Binary",
            "race": "INDIAN",
            "disability": "Intellectual",
        }
    )

    assert messages == []
    assert (cleaned["gender"], cleaned["race"], cleaned["disability"]) == (
        "non_binary",
        "indian",
        "intellectual",
    )


def test_a_duplicate_email_in_the_file_is_reported_on_the_later_rows(cohort):
    email = unique_email()
    report = check(
        cohort,
        student_row(email=email),
        student_row(),
        student_row(email=email.upper()),
        student_row(email=email),
    )

    assert [row["line"] for row in report.valid] == [2, 3]
    assert [(row["line"], row["messages"]) for row in report.invalid] == [
        (4, ["Duplicate: the same e-mail address is on row 2."]),
        (5, ["Duplicate: the same e-mail address is on row 2."]),
    ]


def test_a_student_already_in_the_cohort_is_reported(cohort, admin):
    enrolled = enrollment_invite(
        cohort=cohort, actor=admin, email=unique_email(), full_name="Already Here"
    )
    withdrawn = enrollment_invite(
        cohort=cohort, actor=admin, email=unique_email(), full_name="Gone Away"
    )
    enrollment_withdraw(enrollment=withdrawn, actor=admin, reason="Moved away")

    report = check(
        cohort,
        student_row(email=enrolled.user.email.upper()),
        student_row(email=withdrawn.user.email),
        student_row(email=enrolled.user.email, id_number="1"),
    )

    assert report.valid == []
    assert [(row["messages"], row["already_in_cohort"]) for row in report.invalid] == [
        (["Already enrolled in this cohort."], True),
        (["Already in this cohort, withdrawn."], True),
        (
            [
                "An ID number has 13 digits.",
                "Duplicate: the same e-mail address is on row 2.",
                "Already enrolled in this cohort.",
            ],
            False,
        ),
    ]
    assert report.bad == [report.invalid[2]]


def test_an_account_that_exists_but_is_not_in_the_cohort_is_valid(cohort):
    person = UserFactory(roles=[SystemRole.TRAINER])

    report = check(cohort, student_row(email=person.email))

    assert report.invalid == []


def test_several_problems_of_one_row_are_all_reported(cohort):
    messages = problems(
        cohort,
        {"full_name": "", "email": "nope", "id_number": "123", "gender": "x", "race": "y"},
    )

    assert len(messages) == 5


def test_an_invalid_row_keeps_no_special_personal_information(cohort):
    report = check(cohort, student_row(email="bad", race="white", disability="sight"))

    (invalid,) = report.invalid
    assert set(invalid) == {"line", "full_name", "email", "messages", "already_in_cohort"}
