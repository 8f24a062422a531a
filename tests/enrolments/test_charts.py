"""The cohort page's progress funnel and the start page's enrolments per month: the numbers on
known learners, and the pages carrying each chart's data and its table."""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SystemRole
from cohorts.models import Cohort
from enrolments.models import (
    CohortEnrollment,
    EnrollmentState,
    ProgrammeOutcome,
    VerificationState,
)
from enrolments.selectors import enrollment_progress_chart, enrollments_by_month_chart
from enrolments.services import enrollment_invite
from learners.models import Learner
from tests.factories import CohortFactory, UserFactory

pytestmark = pytest.mark.django_db


def _enrol(cohort: Cohort, admin, count: int) -> list[CohortEnrollment]:
    return [
        enrollment_invite(
            cohort=cohort,
            actor=admin,
            email=f"learner{number}@cohort{cohort.pk}.example",
            full_name=f"Learner {number}",
        )
        for number in range(count)
    ]


def _set(enrollments: list[CohortEnrollment], **fields) -> None:
    """Put learners at a step directly: how they got there is not what these tests are about."""
    CohortEnrollment.objects.filter(pk__in=[e.pk for e in enrollments]).update(**fields)


def _details_complete(enrollments: list[CohortEnrollment]) -> None:
    Learner.objects.filter(enrollments__in=enrollments).update(details_completed_at=timezone.now())


@pytest.fixture
def cohort_at_every_step(admin) -> Cohort:
    """Eight learners: one withdrawn (after completing their details), seven left of whom six
    completed their details, five have their documents verified, four signed the agreement, three
    are complete and one finished the programme."""
    cohort = CohortFactory(active=True)
    learners = _enrol(cohort, admin, 8)
    _details_complete(learners[:7])
    _set(learners[:5], document_verification_state=VerificationState.VERIFIED)
    _set(learners[:4], agreement_signed_at=timezone.now())
    _set(learners[:3], state=EnrollmentState.COMPLETE)
    _set(learners[:1], programme_outcome=ProgrammeOutcome.COMPLETED)
    _set(learners[6:7], state=EnrollmentState.WITHDRAWN)
    return cohort


def test_progress_funnel_counts_each_step_without_the_withdrawn(cohort_at_every_step):
    chart = enrollment_progress_chart(cohort=cohort_at_every_step)

    assert chart["type"] == "funnel"
    assert chart["labels"] == [
        "Enrolled",
        "Details complete",
        "Documents verified",
        "Agreement signed",
        "Ready to start (complete)",
        "Finished the programme",
    ]
    assert chart["datasets"] == [{"label": "Learners", "data": [7, 6, 5, 4, 3, 1]}]


def test_progress_funnel_leaves_other_cohorts_out(admin, cohort_at_every_step):
    other = CohortFactory(active=True)
    _details_complete(_enrol(other, admin, 3))

    chart = enrollment_progress_chart(cohort=cohort_at_every_step)

    assert chart["datasets"][0]["data"][:2] == [7, 6]


def test_progress_funnel_is_one_query_however_many_learners(admin, cohort_at_every_step):
    with CaptureQueriesContext(connection) as few:
        enrollment_progress_chart(cohort=cohort_at_every_step)
    more = CohortFactory(active=True)
    _details_complete(_enrol(more, admin, 12))
    with CaptureQueriesContext(connection) as many:
        enrollment_progress_chart(cohort=more)

    assert len(few) == len(many)
    assert len([q for q in many.captured_queries if "search_path" not in q["sql"]]) == 1


def _chart_data(page: str, chart_id: str) -> dict:
    match = re.search(rf'<script id="{chart_id}-data" type="application/json">(.*?)</script>', page)
    assert match is not None, f"{chart_id}'s data is not on the page"
    return json.loads(match.group(1))


def _table(page: str, chart_id: str) -> str:
    match = re.search(rf'<figure[^>]* id="{chart_id}".*?(<table.*?</table>)', page, re.S)
    assert match is not None, f"{chart_id} has no table"
    return match.group(1)


def test_cohort_page_carries_the_funnel_data_and_its_table(admin_client, cohort_at_every_step):
    page = admin_client.get(cohort_at_every_step.get_absolute_url()).content.decode()

    assert _chart_data(page, "progress-chart") == enrollment_progress_chart(
        cohort=cohort_at_every_step
    )
    table = _table(page, "progress-chart")
    assert "<caption" in table
    assert re.search(r'<th scope="row"[^>]*>Agreement signed</th><td[^>]*>4</td>', table)
    assert 'role="img" aria-label="How far the learners have got' in page
    assert page.count("js/charts.") >= 1


def test_draft_cohort_page_has_no_charts(admin_client):
    draft = CohortFactory()

    page = admin_client.get(draft.get_absolute_url()).content.decode()

    assert "progress-chart" not in page
    assert "attendance-chart" not in page


def _enrolled_on(enrollment: CohortEnrollment, day: datetime.date, completed: bool) -> None:
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    _set([enrollment], invited_at=moment, completed_at=moment if completed else None)


def _months_ago(count: int) -> datetime.date:
    day = timezone.localdate().replace(day=1)
    for _ in range(count):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return day


def test_enrolments_per_month_over_the_last_year(admin):
    cohort = CohortFactory(active=True)
    this_month, three_ago, a_year_ago = _enrol(cohort, admin, 3)
    late_this_month, *_ = _enrol(CohortFactory(active=True), admin, 1)
    _enrolled_on(this_month, _months_ago(0), completed=True)
    _enrolled_on(late_this_month, _months_ago(0) + datetime.timedelta(days=20), completed=False)
    _enrolled_on(three_ago, _months_ago(3) + datetime.timedelta(days=27), completed=False)
    _enrolled_on(a_year_ago, _months_ago(12), completed=True)

    chart = enrollments_by_month_chart()

    assert len(chart["labels"]) == 12
    assert chart["labels"][-1] == f"{_months_ago(0):%b %Y}"
    assert chart["labels"][0] == f"{_months_ago(11):%b %Y}"
    enrolled, onboarded = (dataset["data"] for dataset in chart["datasets"])
    assert enrolled == [0] * 8 + [1, 0, 0, 2]
    assert onboarded == [0] * 11 + [1]


def test_start_page_shows_enrolments_chart_to_admins_only(admin_client, client_of, admin):
    _enrol(CohortFactory(active=True), admin, 2)
    verifier = UserFactory(roles=[SystemRole.VERIFIER])

    page = admin_client.get("/").content.decode()
    assert _chart_data(page, "enrolments-chart")["datasets"][0]["data"][-1] == 2
    assert "<caption" in _table(page, "enrolments-chart")
    assert "enrolments-chart" not in client_of(verifier).get("/").content.decode()
