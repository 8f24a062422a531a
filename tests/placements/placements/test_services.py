"""Each placement transition, each refusal, the e-mails and the confirmation signal."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import SystemRole
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from placements.models import Placement, PlacementPreference, PlacementStatus
from placements.services.placements import (
    placement_cancel,
    placement_complete,
    placement_confirm,
    placement_decline,
    placement_start,
    placement_terminate,
)
from placements.signals import placement_confirmed
from tests.factories import UserFactory
from tests.placements.factories import OrganisationFactory, academic_year, preference

from .support import clear, member_of, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def here(institution, admin):
    return world(admin)


def _actions(placement: Placement) -> list[str]:
    return list(
        AuditEvent.objects.filter(entity_type="placements.placement", entity_id=str(placement.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_proposing_emails_each_member_of_the_organisation(here):
    second = member_of_too(here)
    placement = here.propose(here.learner("Ayanda Dube"))

    emails = OutboundEmail.objects.filter(template="placement_proposed")
    assert sorted(emails.values_list("recipient", flat=True)) == sorted(
        [here.member.email, second.email]
    )
    context = emails.first().context
    assert context["organisation_name"] == "Hillview High"
    assert context["placements"][0]["learner"] == "Ayanda Dube"
    assert context["url"].endswith("/placements/member/placements/")
    assert placement.status == PlacementStatus.PROPOSED


def member_of_too(here):
    from placements.models import OrganisationMembership

    other = OrganisationFactory(name="Another school")
    user = member_of(other)
    OrganisationMembership.objects.create(user=user, organisation=here.organisation)
    return user


def test_the_member_confirms_and_the_learner_is_emailed(here):
    learner = here.learner("Ayanda Dube")
    placement = here.propose(learner)

    confirmed = placement_confirm(placement=placement, actor=here.member)

    assert confirmed.status == PlacementStatus.CONFIRMED
    assert confirmed.confirmed_by == here.member
    assert confirmed.confirmed_at is not None
    assert _actions(placement) == ["placement.propose", "placement.confirm"]
    email = OutboundEmail.objects.get(template="placement_confirmed")
    assert email.recipient == learner.user.email
    assert email.context["supervisor"] == here.contact.full_name
    assert email.context["url"].endswith("/placements/my/placements/")


def test_an_admin_confirms_on_the_organisations_behalf(here):
    placement = here.propose(here.learner())
    assert placement_confirm(placement=placement, actor=here.admin).confirmed_by == here.admin


def test_confirming_a_learner_not_cleared_names_what_is_missing(here):
    placement = here.propose(here.learner("Bongani Mthembu", cleared=False))

    with pytest.raises(ValidationError) as refused:
        placement_confirm(placement=placement, actor=here.member)

    assert refused.value.code == "not_cleared"
    assert "Bongani Mthembu is not cleared for placement on 1 March 2027" in str(refused.value)
    assert "Police clearance" in refused.value.messages[0]
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.PROPOSED
    assert not OutboundEmail.objects.filter(template="placement_confirmed").exists()


def test_a_clearance_that_expires_before_the_start_does_not_count(here):
    learner = here.learner(cleared=False)
    clear(learner, here.police, expires_on=datetime.date(2027, 2, 28))
    placement = here.propose(learner)
    with pytest.raises(ValidationError, match="Police clearance not cleared"):
        placement_confirm(placement=placement, actor=here.member)


def test_confirming_past_the_organisations_places_is_refused(here):
    first = here.propose(here.learner("First Learner"))
    second = here.propose(here.learner("Second Learner"))
    placement_confirm(placement=first, actor=here.member)

    with pytest.raises(ValidationError) as refused:
        placement_confirm(placement=second, actor=here.member)

    assert refused.value.code == "no_capacity"
    assert "no free place for Mathematics" in refused.value.messages[0]
    assert "the 1 place it offers is taken" in refused.value.messages[0]
    second.refresh_from_db()
    assert second.status == PlacementStatus.PROPOSED


def test_a_place_in_another_subject_does_not_count(here):
    """The organisation changed its preference after the proposal: English places only."""
    placement = here.propose(here.learner())
    PlacementPreference.objects.filter(organisation=here.organisation).delete()
    preference(here.organisation, academic_year("2027"), places={("ENG", "secondary"): 3})
    with pytest.raises(ValidationError, match="it offers none in this subject"):
        placement_confirm(placement=placement, actor=here.member)


def test_a_member_of_another_organisation_may_not_confirm_or_decline(here):
    placement = here.propose(here.learner())
    stranger = member_of(OrganisationFactory(name="Elsewhere"))
    with pytest.raises(PermissionDenied):
        placement_confirm(placement=placement, actor=stranger)
    with pytest.raises(PermissionDenied):
        placement_decline(placement=placement, actor=stranger, reason="No")
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.PROPOSED


def test_a_member_acts_only_for_their_current_organisation(here):
    from placements.models import OrganisationMembership

    placement = here.propose(here.learner())
    OrganisationMembership.objects.filter(user=here.member).update(is_current=False)
    elsewhere = OrganisationFactory(name="Now current")
    OrganisationMembership.objects.create(user=here.member, organisation=elsewhere, is_current=True)
    with pytest.raises(PermissionDenied):
        placement_confirm(placement=placement, actor=here.member)


def test_a_student_may_not_confirm(here):
    placement = here.propose(here.learner())
    with pytest.raises(PermissionDenied):
        placement_confirm(placement=placement, actor=UserFactory(roles=[SystemRole.STUDENT]))


def test_the_member_declines_with_a_reason(here):
    placement = here.propose(here.learner())

    declined = placement_decline(
        placement=placement, actor=here.member, reason="  Our maths teacher is on leave.  "
    )

    assert declined.status == PlacementStatus.CANCELLED
    assert declined.declined_by_organisation
    assert declined.end_reason == "Our maths teacher is on leave."
    assert declined.ended_at is not None
    event = AuditEvent.objects.get(action="placement.decline")
    assert event.new_values["reason"] == "(changed)"


def test_declining_without_a_reason_is_refused(here):
    placement = here.propose(here.learner())
    with pytest.raises(ValidationError) as refused:
        placement_decline(placement=placement, actor=here.member, reason="   ")
    assert "reason" in refused.value.error_dict
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.PROPOSED


def test_an_admin_may_not_decline_for_the_organisation(here):
    placement = here.propose(here.learner())
    with pytest.raises(PermissionDenied):
        placement_decline(placement=placement, actor=here.admin, reason="No")


def test_the_admin_cancels_a_proposal_with_a_reason(here):
    placement = here.propose(here.learner())
    with pytest.raises(ValidationError):
        placement_cancel(placement=placement, actor=here.admin, reason="")
    cancelled = placement_cancel(placement=placement, actor=here.admin, reason="Found closer.")
    assert cancelled.status == PlacementStatus.CANCELLED
    assert not cancelled.declined_by_organisation
    assert cancelled.end_reason == "Found closer."


def test_start_complete_with_outcome_notes(here):
    placement = placement_confirm(placement=here.propose(here.learner()), actor=here.member)

    started = placement_start(placement=placement, actor=here.admin)
    assert started.status == PlacementStatus.ACTIVE
    with pytest.raises(ValidationError) as refused:
        placement_complete(placement=started, actor=here.admin, outcome_notes=" ")
    assert "outcome_notes" in refused.value.error_dict
    completed = placement_complete(
        placement=started, actor=here.admin, outcome_notes="Taught two Grade 10 classes."
    )

    assert completed.status == PlacementStatus.COMPLETED
    assert completed.outcome_notes == "Taught two Grade 10 classes."
    assert _actions(placement) == [
        "placement.propose",
        "placement.confirm",
        "placement.start",
        "placement.complete",
    ]


@pytest.mark.parametrize("started", [False, True])
def test_terminate_needs_a_reason(here, started):
    placement = placement_confirm(placement=here.propose(here.learner()), actor=here.member)
    if started:
        placement = placement_start(placement=placement, actor=here.admin)

    with pytest.raises(ValidationError) as refused:
        placement_terminate(placement=placement, actor=here.admin, reason="")
    assert "reason" in refused.value.error_dict
    terminated = placement_terminate(
        placement=placement, actor=here.admin, reason="The school closed for renovations."
    )

    assert terminated.status == PlacementStatus.TERMINATED
    assert terminated.end_reason == "The school closed for renovations."
    assert terminated.ended_at is not None


def test_the_database_refuses_a_terminated_placement_without_a_reason(here):
    placement = here.propose(here.learner())
    with pytest.raises(IntegrityError), transaction.atomic():
        Placement.objects.filter(pk=placement.pk).update(status=PlacementStatus.TERMINATED)


@pytest.mark.parametrize(
    ("move", "message"),
    [
        (
            lambda p, a: placement_start(placement=p, actor=a),
            "Cannot start this placement: it is proposed",
        ),
        (
            lambda p, a: placement_complete(placement=p, actor=a, outcome_notes="x"),
            "Cannot complete this placement: it is proposed",
        ),
        (
            lambda p, a: placement_terminate(placement=p, actor=a, reason="x"),
            "Cannot terminate this placement: it is proposed",
        ),
    ],
)
def test_a_transition_from_the_wrong_status_is_refused(here, move, message):
    placement = here.propose(here.learner())
    with pytest.raises(ValidationError, match=message):
        move(placement, here.admin)


def test_a_stale_copy_cannot_confirm_twice(here):
    placement = here.propose(here.learner())
    stale = Placement.objects.get(pk=placement.pk)
    placement_confirm(placement=placement, actor=here.member)

    with pytest.raises(ValidationError, match="Cannot confirm this placement: it is confirmed"):
        placement_confirm(placement=stale, actor=here.admin)
    assert AuditEvent.objects.filter(action="placement.confirm").count() == 1


def test_only_the_institution_starts_completes_terminates_and_cancels(here):
    placement = here.propose(here.learner())
    with pytest.raises(PermissionDenied):
        placement_cancel(placement=placement, actor=here.member, reason="x")
    confirmed = placement_confirm(placement=placement, actor=here.member)
    with pytest.raises(PermissionDenied):
        placement_start(placement=confirmed, actor=here.member)
    with pytest.raises(PermissionDenied):
        placement_terminate(placement=confirmed, actor=here.member, reason="x")


def test_what_a_receiver_writes_rolls_back_with_a_failed_confirmation(here):
    """A receiver (as finance's commission will be) writes inside the confirming transaction;
    when the confirmation then fails, its row is gone with it."""
    from sponsors.models import Sponsor

    def accrue(sender, placement, actor, **kwargs) -> None:
        Sponsor.objects.create(company_name=f"Commission for {placement.pk}")
        raise_after.append(placement.pk)
        if fail:
            raise ValidationError("The commission could not be accrued.")

    raise_after: list[int] = []
    placement = here.propose(here.learner())
    placement_confirmed.connect(accrue, dispatch_uid="test-accrue")
    try:
        fail = True
        with pytest.raises(ValidationError, match="could not be accrued"):
            placement_confirm(placement=placement, actor=here.member)
        assert raise_after == [placement.pk]
        assert not Sponsor.objects.filter(company_name=f"Commission for {placement.pk}").exists()
        placement.refresh_from_db()
        assert placement.status == PlacementStatus.PROPOSED
        assert not AuditEvent.objects.filter(action="placement.confirm").exists()

        fail = False
        placement_confirm(placement=placement, actor=here.member)
        assert Sponsor.objects.filter(company_name=f"Commission for {placement.pk}").exists()
    finally:
        placement_confirmed.disconnect(dispatch_uid="test-accrue")


def test_the_emails_read_as_typed(institution, admin):
    from notifications.services import email_render

    here = world(admin, name="Smith & O'Neil Academy")
    learner = here.learner("Ayanda Dube")
    placement_confirm(placement=here.propose(learner), actor=here.member)

    proposed = email_render(OutboundEmail.objects.get(template="placement_proposed"))
    assert proposed.subject == (
        "Alpha College would like to place Ayanda Dube with Smith & O'Neil Academy"
    )
    assert "- Ayanda Dube, Mathematics, 1 March 2027 to 30 June 2027" in proposed.body
    assert "Smith &amp; O&#x27;Neil Academy" in proposed.alternatives[0][0]
    confirmed = email_render(OutboundEmail.objects.get(template="placement_confirmed"))
    assert confirmed.subject == "Your placement at Smith & O'Neil Academy is confirmed"
    assert "Your supervisor there is Thandi Nkosi." in confirmed.body
