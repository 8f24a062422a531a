"""Naming a placement's mentor: who may (staff who manage placements, a member acting for the
placement's organisation), whom (a member of that organisation), when (a confirmed or active
placement); a change ends the current mentorship; the pages."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import SystemRole
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from placements.models import Placement, PlacementStatus
from tests.factories import UserFactory
from tests.placements.factories import OrganisationFactory
from tests.workplace.support import member_of, workplace_world
from workplace.models import Mentorship
from workplace.services.mentors import mentor_assign


@pytest.fixture
def world(admin):
    return workplace_world(admin)


def text(response) -> str:
    return " ".join(response.content.decode().split())


def test_staff_change_the_mentor_and_the_earlier_mentorship_ends(world):
    placement = world.learner.placement
    colleague = member_of(world.organisation, full_name="Thabo Colleague")
    mentorship = mentor_assign(actor=world.admin, placement=placement, mentor=colleague)
    assert mentorship.is_current
    assert mentorship.assigned_by == world.admin
    earlier = Mentorship.objects.get(placement=placement, mentor=world.mentor)
    assert earlier.ended_at is not None
    assert Mentorship.objects.filter(placement=placement, ended_at__isnull=True).count() == 1
    email = OutboundEmail.objects.get(template="mentor_assigned")
    assert email.recipient == colleague.email
    assert email.context["learner_name"] == world.learner.learner.full_name
    event = AuditEvent.objects.get(action="mentorship.assign")
    assert event.old_values == {"mentor": world.mentor.pk}


def test_a_member_acting_for_the_organisation_names_a_mentor(world):
    [placed] = world.learners_add(1, mentored=False)
    member = member_of(world.organisation)
    mentorship = mentor_assign(actor=member, placement=placed.placement, mentor=world.mentor)
    assert mentorship.mentor == world.mentor
    outsider = member_of(OrganisationFactory(name="Elsewhere School"))
    with pytest.raises(PermissionDenied):
        mentor_assign(actor=outsider, placement=placed.placement, mentor=member)
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    with pytest.raises(PermissionDenied):
        mentor_assign(actor=trainer, placement=placed.placement, mentor=member)
    with pytest.raises(PermissionDenied):
        mentor_assign(actor=world.learner.user, placement=placed.placement, mentor=member)


def test_the_mentor_is_a_member_of_the_placements_organisation(world):
    placement = world.learner.placement
    outsider = member_of(OrganisationFactory(name="Elsewhere School"))
    no_role = UserFactory(roles=[SystemRole.TRAINER])
    for mentor, message in [
        (outsider, "does not belong to Orlando West High School"),
        (no_role, "is not an organisation member"),
        (world.mentor, "already mentors"),
    ]:
        with pytest.raises(ValidationError) as refused:
            mentor_assign(actor=world.admin, placement=placement, mentor=mentor)
        assert "mentor" in refused.value.error_dict
        assert message in " ".join(refused.value.messages)


@pytest.mark.parametrize(
    "status", [PlacementStatus.PROPOSED, PlacementStatus.COMPLETED, PlacementStatus.TERMINATED]
)
def test_a_mentor_is_named_for_a_confirmed_or_active_placement(world, status):
    Placement.objects.filter(pk=world.learner.placement.pk).update(
        status=status, end_reason="Ended." if status == PlacementStatus.TERMINATED else ""
    )
    colleague = member_of(world.organisation)
    with pytest.raises(ValidationError, match="confirmed or active"):
        mentor_assign(actor=world.admin, placement=world.learner.placement, mentor=colleague)


def test_the_mentor_page(world, client_of):
    placement = world.learner.placement
    colleague = member_of(world.organisation, full_name="Thabo Colleague")
    member_of(OrganisationFactory(name="Elsewhere School"), full_name="Sipho Outsider")
    url = reverse("workplace:mentor_assign", args=[placement.pk])
    client = client_of(world.admin)
    page = client.get(url)
    assert page.status_code == 200
    assert "Thabo Colleague" in text(page)
    assert "Sipho Outsider" not in text(page)
    response = client.post(url, {"mentor": colleague.pk})
    assert response.status_code == 302
    assert Mentorship.objects.get(placement=placement, ended_at__isnull=True).mentor == colleague
    assert client.post(url, {"mentor": colleague.pk}).status_code == 400
    detail = client.get(reverse("placements:placement_detail", args=[placement.pk]))
    assert "Workplace learning" in text(detail)
    assert "Thabo Colleague" in text(detail)
    assert reverse("workplace:logbook", args=[placement.pk]) in detail.content.decode()
    # A member of the organisation reaches it; a member of another, or the learner, do not.
    assert client_of(world.mentor).get(url).status_code == 200
    outsider = member_of(OrganisationFactory(name="Far School"))
    assert client_of(outsider).get(url).status_code == 404
    assert client_of(world.learner.user).get(url).status_code == 404


def test_the_mentees_page(world, client_of):
    world.learners_add(2)
    [elsewhere] = world.learners_add(1, mentor=member_of(world.organisation))
    page = client_of(world.mentor).get(reverse("workplace:mentees"))
    assert page.status_code == 200
    assert world.learner.learner.full_name in text(page)
    assert elsewhere.learner.full_name not in text(page)
    assert text(page).count("Nothing waiting") == 3
    empty = client_of(member_of(world.organisation)).get(reverse("workplace:mentees"))
    assert "You have no mentees yet" in text(empty)
