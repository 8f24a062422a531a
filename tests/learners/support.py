"""Learners' details as the details form makes them, for tests that save them directly."""

from typing import Any

from learners.forms import LearnerDetailsForm

FORM_DETAILS = {
    "id_number": "9904125800080",
    "date_of_birth": "",
    "gender": "",
    "race": "coloured",
    "disability": "hearing",
    "city": "Cape Town",
    "home_language": "afrikaans",
    "highest_qualification": "diploma",
}


def details_of(**changes: Any) -> dict[str, Any]:
    """The validated details of FORM_DETAILS with `changes`, as learner_details_save takes them."""
    form = LearnerDetailsForm({**FORM_DETAILS, **changes})
    assert form.is_valid(), form.errors
    return form.details()


def sa_id_number(serial: int, birth: str = "950612") -> str:
    """A valid South African ID number, different for each `serial` (0 to 9999)."""
    from stdnum import luhn

    body = f"{birth}{serial:04d}08"
    return body + luhn.calc_check_digit(body)


def consents_give(learner: Any, *kinds: str) -> None:
    """The learner gives `kinds` (data processing when none is named) in the portal."""
    from learners.models import ConsentKind, ConsentMethod
    from learners.services import consent_record

    for kind in kinds or (ConsentKind.DATA_PROCESSING,):
        consent_record(
            learner=learner, kind=kind, given=True, method=ConsentMethod.PORTAL, actor=learner.user
        )


def unused_sa_id_number(birth: str = "950612") -> str:
    """A valid South African ID number no learner of the current institution has: for tests on
    an institution that keeps its data from one test to the next (the browser tests')."""
    from learners.models import IdentityType
    from learners.services import national_id_holder

    for serial in range(10_000):
        number = sa_id_number(serial, birth)
        if national_id_holder(kind=IdentityType.SA_ID, country="ZA", number=number) is None:
            return number
    raise LookupError(f"Every ID number born {birth} is taken.")
