"""What a South African ID number implies, beside what the student entered."""

import datetime

import pytest

from learners.models import Learner
from learners.services import national_id_fields
from verification.id_check import id_number_check

from .conftest import ID_NUMBER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("institution")]


def _learner(id_number: str = ID_NUMBER, kind: str = "sa_id", **details) -> Learner:
    """A learner (unsaved) with `id_number` stored as it is at rest."""
    return Learner(
        first_name="Ayanda",
        **national_id_fields(kind=kind, country="ZA", number=id_number),
        **details,
    )


def _facts(check) -> dict:
    return {fact.label: fact for fact in check.facts}


def test_no_id_number_no_check():
    assert id_number_check(_learner("")) is None
    assert id_number_check(_learner("A1234567", kind="passport")) is None


def test_matching_details():
    check = id_number_check(
        _learner(date_of_birth=datetime.date(1990, 1, 1), gender="female", citizenship="citizen")
    )
    facts = _facts(check)
    assert facts["Date of birth"].implied == "1 January 1990"
    assert facts["Gender"].implied == "Female"
    assert facts["Citizenship"].implied == "South African citizen"
    assert not check.has_mismatch


def test_mismatches_are_flagged():
    check = id_number_check(
        _learner(date_of_birth=datetime.date(1990, 2, 1), gender="male", citizenship="resident")
    )
    facts = _facts(check)
    assert facts["Date of birth"].mismatch
    assert facts["Date of birth"].entered == "1 February 1990"
    assert facts["Gender"].mismatch
    assert facts["Citizenship"].mismatch
    assert check.has_mismatch


def test_genders_the_id_cannot_express_are_not_a_mismatch():
    check = id_number_check(_learner(gender="prefer_not_to_say"))
    gender = _facts(check)["Gender"]
    assert gender.mismatch is None
    assert gender.entered == "Prefer not to say"
    assert not check.has_mismatch


def test_an_invalid_number_says_why():
    check = id_number_check(_learner(ID_NUMBER[:-1] + "0"))
    assert "check digit" in check.error
    assert check.has_mismatch
