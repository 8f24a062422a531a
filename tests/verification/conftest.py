"""Review fixtures: the enrolments fixtures (students enrolled and signed up, uploads
under a directory of the test's own), uploads through the enrolment service, and verifiers
granted some cohorts."""

from collections.abc import Callable

import pytest

from accounts.models import SystemRole, User
from cohorts.models import Cohort, DocumentType
from cohorts.services import cohort_reviewer_set
from enrolments.models import CohortEnrollment, StudentDocument
from enrolments.services import enrollment_details_save
from learners.forms import LearnerDetailsForm
from tests.enrolments.conftest import (  # noqa: F401 (fixtures)
    _media,
    close,
    enrol,
    id_type,
    upload_document,
)
from tests.factories import UserFactory

# Details as the student's form stores them; the ID number says born 1 Jan 1990, female,
# South African citizen.
ID_NUMBER = "9001014800089"
DETAILS = {
    "id_number": ID_NUMBER,
    "date_of_birth": "",
    "gender": "",
    "race": "african",
    "disability": "none",
    "city": "Soweto",
    "home_language": "isizulu",
    "highest_qualification": "matric",
}


def matric_type() -> DocumentType:
    return DocumentType.objects.get(name="Matric certificate")


def give_details(enrollment: CohortEnrollment, **changes) -> CohortEnrollment:
    form = LearnerDetailsForm({**DETAILS, **changes})
    assert form.is_valid(), form.errors
    return enrollment_details_save(
        enrollment=enrollment, actor=enrollment.user, details=form.details()
    )


@pytest.fixture
def upload() -> Callable[..., StudentDocument]:
    return upload_document


@pytest.fixture
def verifier_for(institution, admin) -> Callable[..., User]:
    """A verifier granted the given cohorts (and no other)."""

    def make(*cohorts: Cohort, full_name: str = "Vusi Verifier") -> User:
        verifier = UserFactory(roles=[SystemRole.VERIFIER], full_name=full_name)
        for cohort in cohorts:
            cohort_reviewer_set(cohort=cohort, actor=admin, reviewer=verifier, allowed=True)
        return verifier

    return make
