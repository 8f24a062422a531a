"""Memberships: adding an existing person or inviting a new one, removing, switching the
current organisation; the organisation member role follows the memberships."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Invitation, SystemRole, User
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from placements.access import current_organisation
from placements.models import OrganisationMembership
from placements.services.memberships import membership_add, membership_remove, membership_switch
from tests.factories import UserFactory, role_keys
from tests.placements.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_an_existing_account_becomes_a_member_with_the_role(admin, member):
    school = OrganisationFactory(name="Acacia Primary")

    membership = membership_add(actor=admin, organisation=school, email=member.email.upper())

    assert membership.user == member
    assert membership.is_current  # the first is current at once
    assert membership.added_by == admin
    assert SystemRole.ORGANISATION_MEMBER in role_keys(member)
    assert current_organisation(member) == school
    event = AuditEvent.objects.get(action="organisation_membership.added")
    assert event.new_values == {"user": member.pk, "organisation": school.pk, "is_current": True}
    assert AuditEvent.objects.filter(action="user.roles_changed", entity_id=str(member.pk)).exists()


def test_a_new_person_is_invited_with_the_organisation_member_role(admin):
    school = OrganisationFactory(name="Acacia Primary")

    membership = membership_add(
        actor=admin, organisation=school, email="Lead@Acacia.example", full_name="Lindiwe Lead"
    )

    user = membership.user
    assert user.email == "lead@acacia.example"
    assert not user.has_usable_password()
    assert role_keys(user) == {SystemRole.ORGANISATION_MEMBER}
    assert Invitation.objects.filter(user=user, used_at__isnull=True).count() == 1
    assert OutboundEmail.objects.get(recipient="lead@acacia.example").template == "invitation"


def test_a_new_person_needs_a_name(admin):
    school = OrganisationFactory()

    with pytest.raises(ValidationError) as refused:
        membership_add(actor=admin, organisation=school, email="nobody@example.org")

    assert "give their full name" in refused.value.message_dict["full_name"][0]
    assert not User.objects.filter(email="nobody@example.org").exists()


def test_a_second_membership_of_the_same_organisation_is_refused(admin, member):
    school = OrganisationFactory(name="Acacia Primary")
    membership_add(actor=admin, organisation=school, email=member.email)

    with pytest.raises(ValidationError) as refused:
        membership_add(actor=admin, organisation=school, email=member.email)

    assert "already a member of Acacia Primary" in refused.value.message_dict["email"][0]


def test_a_deactivated_account_is_refused(admin, member):
    member.is_active = False
    member.save()

    with pytest.raises(ValidationError, match="deactivated"):
        membership_add(actor=admin, organisation=OrganisationFactory(), email=member.email)
    assert not OrganisationMembership.objects.filter(user=member).exists()


def test_only_those_who_manage_organisations_add_members(institution, member):
    trainer = UserFactory(roles=[SystemRole.TRAINER])

    with pytest.raises(PermissionDenied):
        membership_add(actor=trainer, organisation=OrganisationFactory(), email=member.email)
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="organisation_membership.add"
    ).exists()


def test_a_member_switches_and_it_is_stored(member, two_schools):
    acacia, baobab = two_schools

    membership_switch(user=member, organisation_pk=baobab.pk)

    current = OrganisationMembership.objects.get(user=member, is_current=True)
    assert current.organisation == baobab
    assert current_organisation(User.objects.get(pk=member.pk)) == baobab
    event = AuditEvent.objects.get(action="organisation_membership.switched")
    assert event.old_values == {"organisation": acacia.pk}
    assert event.new_values == {"organisation": baobab.pk}


def test_switching_to_an_organisation_one_does_not_belong_to_is_refused(member, two_schools):
    stranger = OrganisationFactory(name="Elsewhere")

    with pytest.raises(OrganisationMembership.DoesNotExist):
        membership_switch(user=member, organisation_pk=stranger.pk)
    assert current_organisation(member) == two_schools[0]


def test_switching_to_an_inactive_organisation_is_refused(member, two_schools):
    _, baobab = two_schools
    baobab.is_active = False
    baobab.save()

    with pytest.raises(OrganisationMembership.DoesNotExist):
        membership_switch(user=member, organisation_pk=baobab.pk)


def test_the_database_keeps_one_current_membership(member, two_schools):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationMembership.objects.filter(user=member).update(is_current=True)


def test_removing_the_current_membership_leaves_none_current_until_chosen(
    admin, member, two_schools
):
    acacia, baobab = two_schools
    membership_switch(user=member, organisation_pk=baobab.pk)

    membership_remove(
        actor=admin, membership=OrganisationMembership.objects.get(user=member, organisation=baobab)
    )

    assert not OrganisationMembership.objects.filter(user=member, is_current=True).exists()
    assert current_organisation(member) == acacia  # shown meanwhile, not stored
    assert SystemRole.ORGANISATION_MEMBER in role_keys(member)
    event = AuditEvent.objects.get(action="organisation_membership.removed")
    assert event.old_values == {"user": member.pk, "organisation": baobab.pk, "is_current": True}


def test_removing_the_last_membership_takes_the_role(admin, member, two_schools):
    for membership in OrganisationMembership.objects.filter(user=member):
        membership_remove(actor=admin, membership=membership)

    assert SystemRole.ORGANISATION_MEMBER not in role_keys(member)
    assert current_organisation(member) is None
