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
