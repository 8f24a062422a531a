"""The built-in reports' test world: learners with known demographics enrolled in cohorts of
known programmes and years, written directly (test setup, not the services), and running a
report as an execution would: parameters through the report's form and their stored form."""

import datetime
from typing import Any

from accounts.models import Role, SystemRole, User, UserRole
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.models import Learner
from reports.registry import Report, parameters_from_json, parameters_to_json


def learner_enrol(
    cohort: Cohort,
    first_name: str,
    last_name: str = "",
    *,
    race: str = "",
    gender: str = "",
    disability: str = "",
    state: str = EnrollmentState.IN_PROGRESS,
    **fields: Any,
) -> CohortEnrollment:
    """A learner with a student account, enrolled in `cohort` in `state`."""
    user = User.objects.create_user(
        f"{first_name}.{last_name}.{cohort.pk}@example.org".lower(),
        None,
        full_name=f"{first_name} {last_name}".strip(),
    )
    UserRole.objects.create(user=user, role=Role.objects.get(key=SystemRole.STUDENT))
    learner = Learner.objects.create(
        user=user,
        first_name=first_name,
        last_name=last_name,
        email=user.email,
        race=race,
        gender=gender,
        disability=disability,
    )
    return enrolment_add(cohort, learner, state=state, **fields)


def enrolment_add(
    cohort: Cohort, learner: Learner, *, state: str = EnrollmentState.IN_PROGRESS, **fields: Any
) -> CohortEnrollment:
    """`learner` (already known) enrolled in another cohort."""
    enrollment: CohortEnrollment = CohortEnrollment.objects.bulk_create(
        [CohortEnrollment(cohort=cohort, user=learner.user, learner=learner, state=state, **fields)]
    )[0]
    return enrollment


def report_run(report: Report, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The report's rows for `data` as typed on its page (each parameter not in `data` left
    as the page offers it), the parameters checked by its form and passed through their
    stored form, as an execution runs them."""
    offered = {
        name: field.initial
        for name, field in report.parameters_form().fields.items()
        if field.initial is not None
    }
    form = report.parameters_form({**offered, **(data or {})})
    assert form.is_valid(), form.errors
    stored = parameters_to_json(report, form.cleaned_data)
    return list(report.rows(parameters_from_json(report, stored)))


def days_ago(days: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)
