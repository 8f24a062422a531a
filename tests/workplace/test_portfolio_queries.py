"""The assessor's queue reads in a fixed number of queries, whether 10 or 200 learners have a
portfolio waiting."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.workplace.support import workplace_world
from workplace.models import (
    EvidenceKind,
    Portfolio,
    PortfolioEvidence,
    PortfolioStatus,
    PortfolioSubmission,
)

pytestmark = pytest.mark.django_db


def handed_in(world, placed_list) -> None:
    """A submitted portfolio with one document for each learner, written directly."""
    portfolios = Portfolio.objects.bulk_create(
        Portfolio(
            course_enrollment=placed.course_enrollment,
            outcome=world.outcomes[0],
            status=PortfolioStatus.SUBMITTED,
        )
        for placed in placed_list
    )
    now = timezone.now()
    submissions = PortfolioSubmission.objects.bulk_create(
        PortfolioSubmission(portfolio=portfolio, number=1, submitted_at=now)
        for portfolio in portfolios
    )
    PortfolioEvidence.objects.bulk_create(
        PortfolioEvidence(
            portfolio=submission.portfolio,
            submission=submission,
            kind=EvidenceKind.DOCUMENT,
            title="Lesson plan",
            original_name="plan.pdf",
            sha256="0" * 64,
            size=1,
            content_type="application/pdf",
        )
        for submission in submissions
    )


def queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("workplace:assess_queue"))
    assert response.status_code == 200
    return len(captured)


def test_the_queue_reads_in_the_same_queries_at_10_and_200_learners(admin, client_of):
    world = workplace_world(admin, learners=10)
    handed_in(world, world.placed)
    client = client_of(world.assessor)
    queries(client)
    small = queries(client)
    handed_in(world, world.learners_add(190))
    large = queries(client)
    assert small == large
