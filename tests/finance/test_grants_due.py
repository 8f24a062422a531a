"""When a grant's tranches fall due: registration from the cohort's start (or the day a learner
joined later), mid-point half-way through the cohort's course runs, completion from the
recorded completion date; withdrawn learners earn none from their withdrawal on. Bringing
claims up to date is idempotent, and the daily task does it in every institution."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from audit.models import AuditEvent
from delivery.models import CourseEnrollment, CourseRun, CourseRunStatus
from enrolments.models import CohortEnrollment, EnrollmentState, ProgrammeOutcome
from finance.models import GrantClaim, GrantClaimStatus, GrantMilestone
from finance.selectors.grants import midpoint_of
from finance.services.grants import grant_claims_bring_up_to_date
from finance.tasks.grants import grant_claims_bring_up_to_date_all_institutions
from tests.factories import UserFactory
from tests.finance.grants_support import (
    COMPLETION,
    MID,
    MIDPOINT,
    REGISTRATION,
    agreement_make,
    completed,
    enrollment_of,
    grants_world,
    started_days_ago,
)
from tests.workplace.support import ENDS_ON, STARTS_ON

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def world(admin):
    return grants_world(admin)


def claims(agreement) -> set[tuple[int, str, datetime.date]]:
    return set(agreement.claims.values_list("learner_id", "milestone", "due_on"))


def bring(agreement, today) -> int:
    return grant_claims_bring_up_to_date(agreement=agreement, today=today)


def test_registration_falls_due_on_the_cohorts_start(world):
    agreement = agreement_make(world)
    assert bring(agreement, STARTS_ON - DAY) == 0
    assert bring(agreement, STARTS_ON) == 2
    assert claims(agreement) == {
        (p.learner.pk, GrantMilestone.REGISTRATION, STARTS_ON) for p in world.placed
    }
    claim = agreement.claims.first()
    assert claim.status == GrantClaimStatus.DUE
    assert claim.amount == REGISTRATION


def test_a_learner_who_joined_a_run_later_is_due_from_that_day(world):
    late = world.placed[1]
    joined = STARTS_ON + datetime.timedelta(days=10)
    CourseEnrollment.objects.filter(pk=late.course_enrollment.pk).update(enrollment_date=joined)
    agreement = agreement_make(world)
    bring(agreement, joined - DAY)
    assert claims(agreement) == {
        (world.placed[0].learner.pk, GrantMilestone.REGISTRATION, STARTS_ON)
    }
    bring(agreement, joined)
    assert (late.learner.pk, GrantMilestone.REGISTRATION, joined) in claims(agreement)


def test_a_learner_who_joined_after_the_midpoint_gets_no_midpoint_tranche(world):
    on_time, late = world.placed
    joined = MIDPOINT + DAY
    CourseEnrollment.objects.filter(pk=late.course_enrollment.pk).update(enrollment_date=joined)
    agreement = agreement_make(world)
    bring(agreement, MIDPOINT + 5 * DAY)
    assert {(c[0], c[1]) for c in claims(agreement) if c[1] == GrantMilestone.MIDPOINT} == {
        (on_time.learner.pk, GrantMilestone.MIDPOINT)
    }
    assert (late.learner.pk, GrantMilestone.REGISTRATION, joined) in claims(agreement)


def test_a_learner_who_joined_on_the_midpoint_gets_its_tranche(world):
    late = world.placed[1]
    CourseEnrollment.objects.filter(pk=late.course_enrollment.pk).update(enrollment_date=MIDPOINT)
    agreement = agreement_make(world)
    bring(agreement, MIDPOINT)
    assert (late.learner.pk, GrantMilestone.MIDPOINT, MIDPOINT) in claims(agreement)


def test_a_learner_who_has_not_started_is_not_due_a_registration_tranche(world):
    waiting = world.placed[0]
    CohortEnrollment.objects.filter(pk=enrollment_of(waiting).pk).update(
        state=EnrollmentState.WAITING
    )
    agreement = agreement_make(world)
    bring(agreement, MIDPOINT)
    assert {c[0] for c in claims(agreement)} == {world.placed[1].learner.pk}


def test_a_learner_whose_onboarding_is_complete_is_still_registered(world):
    CohortEnrollment.objects.filter(pk=enrollment_of(world.placed[0]).pk).update(
        state=EnrollmentState.COMPLETE
    )
    agreement = agreement_make(world)
    assert bring(agreement, STARTS_ON) == 2


def test_the_midpoint_is_half_way_through_the_cohorts_runs(world):
    agreement = agreement_make(world)
    assert midpoint_of(agreement.cohort) == MIDPOINT
    bring(agreement, MIDPOINT - DAY)
    assert agreement.claims.filter(milestone=GrantMilestone.MIDPOINT).count() == 0
    assert bring(agreement, MIDPOINT) == 2
    midpoint = agreement.claims.filter(milestone=GrantMilestone.MIDPOINT)
    assert {(c.due_on, c.amount) for c in midpoint} == {(MIDPOINT, MID)}


def test_without_runs_the_midpoint_is_half_way_through_the_cohort(world):
    cohort = world.workplace.run.cohort
    CourseRun.objects.filter(cohort=cohort).update(status=CourseRunStatus.CANCELLED)
    cohort.end_date = STARTS_ON + datetime.timedelta(days=11)
    assert midpoint_of(cohort) == STARTS_ON + datetime.timedelta(days=5)


def test_completion_falls_due_on_the_completion_date(world):
    finished = datetime.date(2027, 6, 20)
    completed(world.placed[0], finished, certificate=False)
    agreement = agreement_make(world)
    bring(agreement, finished - DAY)
    assert not agreement.claims.filter(milestone=GrantMilestone.COMPLETION).exists()
    bring(agreement, finished)
    (claim,) = agreement.claims.filter(milestone=GrantMilestone.COMPLETION)
    assert (claim.learner_id, claim.due_on, claim.amount) == (
        world.placed[0].learner.pk,
        finished,
        COMPLETION,
    )


def test_a_not_yet_competent_learner_gets_no_completion_tranche(world):
    CohortEnrollment.objects.filter(pk=enrollment_of(world.placed[0]).pk).update(
        programme_outcome=ProgrammeOutcome.NOT_YET_COMPETENT, completion_date=ENDS_ON
    )
    agreement = agreement_make(world)
    bring(agreement, ENDS_ON + DAY)
    assert not agreement.claims.filter(milestone=GrantMilestone.COMPLETION).exists()
    # They were in the programme at registration and at its mid-point.
    assert agreement.claims.filter(learner=world.placed[0].learner).count() == 2


def withdraw(placed, on: datetime.date) -> None:
    CohortEnrollment.objects.filter(pk=enrollment_of(placed).pk).update(
        state=EnrollmentState.WITHDRAWN,
        withdrawn_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(10))),
        withdrawal_reason="Moved away",
        agreement_signed_at=timezone.now(),
    )


def test_a_learner_withdrawn_on_the_midpoint_gets_no_tranche_from_then_on(world):
    leaver = world.placed[0]
    withdraw(leaver, MIDPOINT)
    completed(leaver, ENDS_ON)
    agreement = agreement_make(world)
    bring(agreement, ENDS_ON + DAY)
    assert set(agreement.claims.filter(learner=leaver.learner).values_list("milestone")) == {
        (GrantMilestone.REGISTRATION,)
    }
    assert agreement.claims.filter(learner=world.placed[1].learner).count() == 2


def test_a_learner_withdrawn_the_day_after_the_midpoint_keeps_it(world):
    leaver = world.placed[0]
    withdraw(leaver, MIDPOINT + DAY)
    agreement = agreement_make(world)
    bring(agreement, ENDS_ON)
    assert agreement.claims.filter(learner=leaver.learner).count() == 2


def test_a_withdrawn_learner_who_never_started_gets_nothing(world):
    leaver = world.placed[0]
    withdraw(leaver, MIDPOINT)
    CohortEnrollment.objects.filter(pk=enrollment_of(leaver).pk).update(agreement_signed_at=None)
    agreement = agreement_make(world)
    bring(agreement, ENDS_ON)
    assert not agreement.claims.filter(learner=leaver.learner).exists()


def test_claims_made_before_a_withdrawal_stay(world):
    agreement = agreement_make(world)
    bring(agreement, STARTS_ON)
    withdraw(world.placed[0], STARTS_ON + DAY)
    bring(agreement, MIDPOINT)
    assert agreement.claims.filter(learner=world.placed[0].learner).count() == 1


def test_bringing_up_to_date_is_idempotent_and_audited_once(world):
    agreement = agreement_make(world)
    assert bring(agreement, MIDPOINT) == 4
    assert bring(agreement, MIDPOINT) == 0
    assert bring(agreement, MIDPOINT + DAY) == 0
    assert agreement.claims.count() == 4
    (event,) = AuditEvent.objects.filter(action="grant_claims.due")
    assert event.entity_id == str(agreement.pk)
    assert event.new_values == {
        "claims": 4,
        "amount": str(2 * REGISTRATION + 2 * MID),
        "today": str(MIDPOINT),
    }


def test_a_claim_keeps_its_status_and_amount_when_brought_up_to_date_again(world):
    agreement = agreement_make(world)
    bring(agreement, STARTS_ON)
    GrantClaim.objects.filter(agreement=agreement).update(status=GrantClaimStatus.PAID)
    agreement.registration_amount = REGISTRATION * 2
    agreement.save()
    bring(agreement, MIDPOINT)
    registration = agreement.claims.filter(milestone=GrantMilestone.REGISTRATION)
    assert {(c.status, c.amount) for c in registration} == {(GrantClaimStatus.PAID, REGISTRATION)}


def test_a_milestone_the_agreement_pays_nothing_for_makes_no_claim(world):
    agreement = agreement_make(world, midpoint_amount=0)
    bring(agreement, MIDPOINT)
    assert set(agreement.claims.values_list("milestone", flat=True)) == {
        GrantMilestone.REGISTRATION
    }


def test_only_finance_brings_claims_up_to_date_by_hand(world):
    agreement = agreement_make(world)
    with pytest.raises(PermissionDenied):
        grant_claims_bring_up_to_date(agreement=agreement, today=STARTS_ON, actor=world.admin)
    assert not agreement.claims.exists()
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="grant_claims.bring_up_to_date"
    ).exists()
    assert (
        grant_claims_bring_up_to_date(agreement=agreement, today=STARTS_ON, actor=world.finance)
        == 2
    )


def test_the_daily_task_brings_each_institutions_claims_up_to_date(
    world, institution, other_institution, eager
):
    """Each institution's agreements, in its own schema, on its own today: registration is due
    in both, the mid-point in neither."""
    with tenant_context(institution):
        started_days_ago(world, 3)
        ours = agreement_make(world)
    with tenant_context(other_institution):
        theirs_world = grants_world(UserFactory(roles=[SystemRole.ADMIN]), learners=3)
        started_days_ago(theirs_world, 3)
        theirs = agreement_make(theirs_world, reference="MICT-DG-2027-099")

    with tenant_context(institution):
        grant_claims_bring_up_to_date_all_institutions()

    connection.set_tenant(institution)
    assert set(ours.claims.values_list("milestone", flat=True)) == {GrantMilestone.REGISTRATION}
    assert ours.claims.count() == 2
    with tenant_context(other_institution):
        assert theirs.claims.count() == 3
        assert not GrantClaim.objects.exclude(agreement=theirs).exists()
    grant_claims_bring_up_to_date_all_institutions()
    assert ours.claims.count() == 2
