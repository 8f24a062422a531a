"""What a South African ID number implies, beside what the student entered."""

from verification.id_check import id_number_check

from .conftest import ID_NUMBER


def _facts(check) -> dict:
    return {fact.label: fact for fact in check.facts}


def test_no_id_number_no_check():
    assert id_number_check({}) is None
    assert id_number_check({"id_number": "  "}) is None


def test_matching_details():
    check = id_number_check(
        {
            "id_number": ID_NUMBER,
            "date_of_birth": "1990-01-01",
            "gender": "female",
            "citizenship": "citizen",
        }
    )
    facts = _facts(check)
    assert facts["Date of birth"].implied == "1 January 1990"
    assert facts["Gender"].implied == "Female"
    assert facts["Citizenship"].implied == "South African citizen"
    assert not check.has_mismatch


def test_mismatches_are_flagged():
    check = id_number_check(
        {
            "id_number": ID_NUMBER,
            "date_of_birth": "1990-02-01",
            "gender": "male",
            "citizenship": "resident",
        }
    )
    facts = _facts(check)
    assert facts["Date of birth"].mismatch
    assert facts["Date of birth"].entered == "1 February 1990"
    assert facts["Gender"].mismatch
    assert facts["Citizenship"].mismatch
    assert check.has_mismatch


def test_genders_the_id_cannot_express_are_not_a_mismatch():
    check = id_number_check({"id_number": ID_NUMBER, "gender": "prefer_not_to_say"})
    gender = _facts(check)["Gender"]
    assert gender.mismatch is None
    assert gender.entered == "Prefer not to say"
    assert not check.has_mismatch


def test_an_invalid_number_says_why():
    check = id_number_check({"id_number": ID_NUMBER[:-1] + "0"})
    assert "check digit" in check.error
    assert check.has_mismatch
