"""The catalogue import's checks of each row: numbers that are not numbers (inf, nan) are
refused like any other word, each value meets the model's own rules before anything is saved,
and codes match the catalogue whatever their case."""

import pytest

from academics.imports import catalogue_plan
from tests.factories import CourseFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

PROGRAMME = {
    "programme_code": "PL01",
    "programme_name": "Plumbing",
    "qualification_type": "Learnership",
    "duration_years": "1",
    "total_credits": "120",
}


def errors_of(*rows: dict[str, str]) -> list[list[str]]:
    plan = catalogue_plan([(number, row) for number, row in enumerate(rows, start=2)])
    return [row.errors for row in plan.rows]


@pytest.mark.parametrize("text", ["inf", "-Infinity", "nan", "sNaN"])
def test_a_number_that_is_not_finite_is_refused_naming_its_column(institution, text):
    (errors,) = errors_of({**PROGRAMME, "total_credits": text})
    assert errors == [f"total_credits must be a number, not “{text[:20]}”"]


def test_a_number_too_large_to_round_is_refused_at_once(institution):
    (errors,) = errors_of({**PROGRAMME, "total_credits": "1e999999999"})
    assert errors == ["total_credits is too large"]


@pytest.mark.parametrize(
    ("column", "text", "message"),
    [
        ("nqf_level", "11", "nqf_level: Ensure this value is less than or equal to 10."),
        ("duration_years", "1.25", "duration_years: Ensure that there are no more than 1 "),
        ("duration_years", "100", "duration_years: Ensure that there are no more than 2 digits"),
        ("programme_name", "x" * 256, "programme_name: Ensure this value has at most 255"),
        ("programme_code", "C" * 51, "programme_code: Ensure this value has at most 50"),
        ("total_credits", "99999999999", "total_credits: Ensure this value is less than or"),
    ],
)
def test_each_value_meets_the_models_rules_in_the_preview(institution, column, text, message):
    (errors,) = errors_of({**PROGRAMME, column: text})
    assert any(error.startswith(message) for error in errors), errors


def test_codes_match_the_catalogue_whatever_their_case(institution):
    programme = ProgrammeFactory(code="EE01")
    CourseFactory(programme=programme, code="EL101")
    plan = catalogue_plan(
        [
            (2, {"programme_code": "ee01", "course_code": "el101", "course_name": "Wiring"}),
            (3, {"programme_code": "Ee01", "course_code": "el102", "course_name": "Faults",
                 "credits": "10", "prerequisites": "EL101"}),
            (4, {"programme_code": "EE01", "course_code": "EL103", "course_name": "Motors",
                 "credits": "10", "prerequisites": "EL102; el101"}),
        ]
    )  # fmt: skip
    assert [row.errors for row in plan.rows] == [[], [], []]
    assert plan.counts() == {
        "new_programmes": 0,
        "changed_programmes": 1,
        "new_courses": 2,
        "changed_courses": 1,
        "prerequisites": 3,
    }
    assert set(plan.courses) == {("EE01", "EL101"), ("EE01", "el102"), ("EE01", "EL103")}
    assert ("EE01", "el102") in {target for _course, target in plan.prerequisites}
