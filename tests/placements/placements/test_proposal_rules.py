"""What a proposal must satisfy (a cohort the learner is enrolled in, a subject the organisation
offers that year or an urgent request it can host, its date windows), what confirming and
starting check again, urgent capacity, and what the audit events keep of typed text."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_withdraw
from placements.models import (
    PlacementPreference,
    PlacementStatus,
    ProgrammeVettingRequirement,
    UrgentAnswer,
    VettingRecord,
    VettingStatus,
    VettingType,
)
from placements.selectors.capacity import places_free
from placements.services.placements import (
    placement_cancel,
    placement_complete,
    placement_confirm,
    placement_decline,
    placement_start,
    placement_terminate,
)
from tests.delivery.runs_support import enrol
from tests.factories import CohortFactory, ProgrammeFactory
from tests.placements.factories import academic_year, preference, subject

from .support import clear, urgent_request, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def here(institution, admin):
    return world(admin)


def _refusal(call) -> str:
    with pytest.raises(ValidationError) as refused:
        call()
    return " ".join(refused.value.messages)


# --- The cohort ------------------------------------------------------------------------------


def test_a_proposal_without_a_cohort_is_refused(here):
    learner = here.learner("Ayanda Dube")
    message = _refusal(lambda: here.propose(learner, cohort=None))
    assert "Ayanda Dube: choose the cohort whose workplace component this is" in message


def test_a_cohort_the_learner_is_not_enrolled_in_is_refused(here):
    learner = here.learner("Ayanda Dube")
    # A cohort of a programme that needs no vetting would let anyone be confirmed.
    elsewhere = CohortFactory(active=True, programme=ProgrammeFactory(), name="Evening class")
    message = _refusal(lambda: here.propose(learner, cohort=elsewhere))
    assert "Ayanda Dube is not enrolled in Evening class" in message


def test_a_withdrawn_enrolment_does_not_count(here):
    learner = here.learner("Ayanda Dube")
    enrolment = CohortEnrollment.objects.get(learner=learner, cohort=here.cohort)
    enrollment_withdraw(enrollment=enrolment, actor=here.admin, reason="Moved away.")
    message = _refusal(lambda: here.propose(learner))
    assert f"Ayanda Dube is not enrolled in {here.cohort}" in message


def test_confirming_after_the_learner_withdrew_is_refused(here):
    learner = here.learner("Ayanda Dube")
    placement = here.propose(learner)
    enrolment = CohortEnrollment.objects.get(learner=learner, cohort=here.cohort)
    enrollment_withdraw(enrollment=enrolment, actor=here.admin, reason="Moved away.")

    with pytest.raises(ValidationError) as refused:
        placement_confirm(placement=placement, actor=here.member)

    assert refused.value.code == "not_enrolled"
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.PROPOSED


def test_clearance_is_judged_against_the_placements_cohort(here):
    """The learner is in two cohorts; only the placement's cohort's programme asks for a
    medical check, which they lack."""
    learner = here.learner("Ayanda Dube")
    nursing = ProgrammeFactory()
    ProgrammeVettingRequirement.objects.create(
        programme=nursing, vetting_type=VettingType.objects.get(code="medical")
    )
    strict = CohortFactory(active=True, programme=nursing)
    enrol(here.admin, strict, full_name="Ayanda Dube", email=learner.user.email)
    placement = here.propose(learner, cohort=strict)

    message = _refusal(lambda: placement_confirm(placement=placement, actor=here.member))
    assert "Ayanda Dube is not cleared for placement on 1 March 2027: Medical not cleared" in (
        message
    )


# --- The subject and the dates ---------------------------------------------------------------


def test_a_subject_the_organisation_does_not_offer_is_refused(here):
    learner = here.learner("Ayanda Dube")
    message = _refusal(lambda: here.propose(learner, subject=subject("ENG")))
    assert "Ayanda Dube: Hillview High offers no places in English" in message
    assert "in 2027" in message


def test_an_organisation_without_a_preference_offers_nothing(institution, admin):
    here = world(admin, places=0)
    message = _refusal(lambda: here.propose(here.learner()))
    assert "Hillview High offers no places in Mathematics" in message


def test_dates_outside_the_organisations_windows_are_refused(institution, admin):
    here = world(admin, places=0)
    preference(
        here.organisation,
        academic_year("2027"),
        places={("MATH", "secondary"): 2},
        windows=[
            {"starts_on": "2027-02-01", "ends_on": "2027-03-26"},
            {"starts_on": "2027-04-12", "ends_on": "2027-06-25"},
        ],
    )
    learner = here.learner("Ayanda Dube")

    # 1 March to 30 June spans both windows and the break between them.
    message = _refusal(lambda: here.propose(learner))
    assert "Hillview High hosts learners in 2027 only within one of its windows" in message
    assert "1 Feb 2027 to 26 Mar 2027; 12 Apr 2027 to 25 Jun 2027" in message

    placement = here.propose(
        learner, starts_on=datetime.date(2027, 4, 12), ends_on=datetime.date(2027, 6, 25)
    )
    assert placement.status == PlacementStatus.PROPOSED


# --- Urgent requests -------------------------------------------------------------------------


def test_an_urgent_can_host_answer_allows_its_subject(here):
    request = urgent_request(here, code="ENG")
    placement = here.propose(here.learner(), subject=subject("ENG"), urgent_request=request)
    assert placement.urgent_request == request


@pytest.mark.parametrize(
    ("answer", "code", "message"),
    [
        (UrgentAnswer.CANNOT_HOST, "ENG", 'has not answered the urgent request "can host"'),
        (UrgentAnswer.WAITING, "ENG", 'has not answered the urgent request "can host"'),
        (UrgentAnswer.CAN_HOST, "MATH", "the urgent request is for Mathematics (Secondary) in"),
    ],
)
def test_an_urgent_request_allows_only_a_can_host_answer_and_its_subject(
    here, answer, code, message
):
    request = urgent_request(here, code=code, answer=answer)
    learner = here.learner()
    refusal = _refusal(
        lambda: here.propose(learner, subject=subject("ENG"), urgent_request=request)
    )
    assert message in refusal


def test_the_urgent_requests_dates_bound_the_placement(here):
    request = urgent_request(here, code="ENG")
    learner = here.learner()
    refusal = _refusal(
        lambda: here.propose(
            learner,
            subject=subject("ENG"),
            urgent_request=request,
            ends_on=datetime.date(2027, 7, 31),
        )
    )
    assert "the dates are not within the urgent request's (1 Mar 2027 to 30 Jun 2027)" in refusal


def test_urgent_places_count_on_top_of_the_preference(here):
    """The organisation offers 1 Mathematics place and answered an urgent Mathematics request
    with 2 more: three placements of the request are confirmed, a fourth is refused; a
    placement outside the request finds the preference's place taken by the third."""
    request = urgent_request(here, code="MATH", places_offered=2)
    year, maths = academic_year("2027"), subject("MATH")
    placements = [
        here.propose(here.learner(f"Learner {n}"), urgent_request=request) for n in range(4)
    ]
    for placement in placements[:2]:
        placement_confirm(placement=placement, actor=here.member)
    # The invite's places are used first: the preference's place is still free.
    assert places_free(here.organisation, year, maths) == 1

    placement_confirm(placement=placements[2], actor=here.member)
    assert places_free(here.organisation, year, maths) == 0
    with pytest.raises(ValidationError) as refused:
        placement_confirm(placement=placements[3], actor=here.member)
    assert refused.value.code == "no_capacity"


def test_an_urgent_answer_needs_no_preference(institution, admin):
    here = world(admin, places=0)
    request = urgent_request(here, code="ENG", places_offered=1)
    first, second = (
        here.propose(here.learner(name), subject=subject("ENG"), urgent_request=request)
        for name in ("First Learner", "Second Learner")
    )
    assert placement_confirm(placement=first, actor=here.member).status == "confirmed"
    with pytest.raises(ValidationError, match="places it offered for the urgent request"):
        placement_confirm(placement=second, actor=here.member)


# --- Confirming and starting check again -----------------------------------------------------


def test_confirming_at_an_organisation_that_stopped_hosting_is_refused(here):
    placement = here.propose(here.learner())
    here.organisation.is_active = False
    here.organisation.save(update_fields=["is_active"])
    with pytest.raises(ValidationError) as refused:
        placement_confirm(placement=placement, actor=here.admin)
    assert refused.value.code == "inactive_organisation"
    assert "Hillview High no longer hosts learners" in refused.value.messages[0]


def test_confirming_a_subject_no_longer_offered_is_refused(here):
    placement = here.propose(here.learner())
    maths = subject("MATH")
    maths.is_active = False
    maths.save(update_fields=["is_active"])
    with pytest.raises(ValidationError) as refused:
        placement_confirm(placement=placement, actor=here.admin)
    assert refused.value.code == "inactive_subject"


def test_starting_rechecks_clearance_today(here):
    learner = here.learner("Ayanda Dube")
    placement = placement_confirm(placement=here.propose(learner), actor=here.member)
    VettingRecord.objects.filter(learner=learner).update(
        status=VettingStatus.FAILED, reason="The certificate was forged."
    )

    with pytest.raises(ValidationError) as refused:
        placement_start(placement=placement, actor=here.admin)

    assert refused.value.code == "not_cleared"
    assert "Ayanda Dube is not cleared for placement on" in refused.value.messages[0]
    assert "Police clearance not cleared" in refused.value.messages[0]
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.CONFIRMED

    clear(learner, here.police)
    assert placement_start(placement=placement, actor=here.admin).status == "active"


def test_a_preference_withdrawn_after_proposing_leaves_no_place(here):
    placement = here.propose(here.learner())
    PlacementPreference.objects.filter(organisation=here.organisation).delete()
    with pytest.raises(ValidationError, match="has not said which placements it offers"):
        placement_confirm(placement=placement, actor=here.member)


# --- Audit -----------------------------------------------------------------------------------


def _values(placement, action: str) -> dict:
    event = AuditEvent.objects.get(
        entity_type="placements.placement", entity_id=str(placement.pk), action=action
    )
    return event.new_values


def test_audit_events_keep_out_what_people_typed(institution, admin):
    here = world(admin, places=3)
    declined = here.propose(here.learner("First Learner"))
    placement_decline(placement=declined, actor=here.member, reason="Our teacher is ill.")
    cancelled = here.propose(here.learner("Second Learner"))
    placement_cancel(placement=cancelled, actor=here.admin, reason="Family bereavement.")
    terminated = placement_confirm(
        placement=here.propose(here.learner("Third Learner")), actor=here.member
    )
    placement_terminate(placement=terminated, actor=here.admin, reason="Arrested on site.")
    completed = placement_start(
        placement=placement_confirm(
            placement=here.propose(here.learner("Fourth Learner")), actor=here.member
        ),
        actor=here.admin,
    )
    placement_complete(placement=completed, actor=here.admin, outcome_notes="Struggled; anxious.")

    assert _values(declined, "placement.decline") == {"status": "cancelled", "reason": "(changed)"}
    assert _values(cancelled, "placement.cancel") == {
        "status": "cancelled",
        "end_reason": "(changed)",
    }
    assert _values(terminated, "placement.terminate") == {
        "status": "terminated",
        "end_reason": "(changed)",
    }
    assert _values(completed, "placement.complete") == {
        "status": "completed",
        "outcome_notes": "(changed)",
    }
