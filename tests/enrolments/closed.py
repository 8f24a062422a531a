"""What the tests of closed cohorts share: closing a cohort as an admin does, both ways, and
counting what an action would have written."""

from collections.abc import Callable

import pytest
from django.db.models import Model

from accounts.models import Invitation, User
from audit.models import AuditEvent
from cohorts.models import Cohort, CohortState, StudentImport
from cohorts.services import cohort_cancel, cohort_complete
from enrolments.models import CohortEnrollment, StudentDocument
from notifications.models import OutboundEmail
from signing.models import Submission
from verification.models import DocumentVerification

WRITTEN: list[type[Model]] = [
    AuditEvent,
    OutboundEmail,
    User,
    Invitation,
    CohortEnrollment,
    StudentDocument,
    DocumentVerification,
    Submission,
    StudentImport,
]


def counts() -> dict[str, int]:
    """How many rows each table an action in a cohort may write holds."""
    return {model.__name__: model.objects.count() for model in WRITTEN}


@pytest.fixture(params=[CohortState.COMPLETED, CohortState.CANCELLED])
def close(request, admin) -> Callable[[Cohort], Cohort]:
    """Close a running cohort as an admin does: completed (forcibly: its students are not all
    done) or cancelled; `close.state` says which."""

    def close_(cohort: Cohort) -> Cohort:
        if request.param == CohortState.COMPLETED:
            cohort_complete(cohort=cohort, actor=admin, force_reason="The funding year ended.")
        else:
            cohort_cancel(cohort=cohort, actor=admin, reason="The sponsor withdrew.")
        cohort.refresh_from_db()
        return cohort

    close_.state = request.param  # type: ignore[attr-defined]
    return close_
