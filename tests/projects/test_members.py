"""A project's team: adding people (who may join, one role once at a time), handing the lead
over (always exactly one leader), leaving (the row stays; the leader hands over first), each
with its audit event; and the Members pages, the person search, the 404 for anyone else."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from projects.models import MemberRole, ProjectStatus
from projects.services.members import leader_change, member_add, member_leave
from tests.factories import UserFactory
from tests.projects.support import learner_user, project_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return project_world(admin)


@pytest.fixture
def project(world):
    """A running project whose leader joined a month ago."""
    project = world.project(status=ProjectStatus.IN_PROGRESS)
    project.members.update(joined_date=timezone.localdate() - datetime.timedelta(days=30))
    return project


def current(project):
    return sorted(
        (membership.user_id, membership.role)
        for membership in project.members.filter(left_date__isnull=True)
    )


def refusals(action):
    """The audited refusals of `action` (accounts.permissions)."""
    return AuditEvent.objects.filter(action="permission.denied", entity_id=action).count()


def leaders(project):
    return project.members.filter(role=MemberRole.LEADER, left_date__isnull=True).count()


# --- Adding -----------------------------------------------------------------------------------


def test_the_leader_adds_a_mentor_who_is_told_by_email(world, project):
    membership = member_add(
        actor=world.learner, project=project, user=world.reviewers[0], role=MemberRole.MENTOR
    )
    assert membership.joined_date == timezone.localdate()
    assert membership.added_by == world.learner
    event = AuditEvent.objects.get(action="project.member_add")
    assert event.actor == world.learner
    assert event.new_values == {
        "project": project.pk,
        "user": world.reviewers[0].pk,
        "role": "mentor",
    }
    email = OutboundEmail.objects.get(template="project_member_added")
    assert email.recipient == world.reviewers[0].email
    assert email.context["role"] == "mentor"
    assert email.context["url"].endswith(f"/projects/{project.pk}/members/")


def test_a_member_is_added_without_an_email(world, project):
    member_add(actor=world.admin, project=project, user=world.other_learner, role=MemberRole.MEMBER)
    assert (world.other_learner.pk, "member") in current(project)
    assert not OutboundEmail.objects.filter(template="project_member_added").exists()


def test_learners_staff_and_organisation_members_may_join(world, project):
    for person in (world.other_learner, world.reviewers[0], world.organisation_member):
        member_add(actor=world.learner, project=project, user=person, role=MemberRole.MEMBER)
    assert len(current(project)) == 4


@pytest.mark.parametrize("who", ["deactivated", "deleted", "sponsor_contact", "agent"], ids=str)
def test_someone_not_in_service_or_outside_the_institution_is_refused(world, project, who):
    person = (
        UserFactory(roles=[who])
        if who in ("sponsor_contact", "agent")
        else learner_user(full_name="Gone Person")
    )
    if who == "deactivated":
        person.is_active = False
        person.save(update_fields=["is_active"])
    if who == "deleted":
        person.deleted_at = timezone.now()
        person.save(update_fields=["deleted_at"])
    with pytest.raises(ValidationError) as refused:
        member_add(actor=world.learner, project=project, user=person, role=MemberRole.MEMBER)
    assert "cannot join a project" in refused.value.message_dict["user"][0]
    assert not AuditEvent.objects.filter(action="project.member_add").exists()


def test_the_same_role_twice_is_refused_and_two_roles_are_allowed(world, project):
    member_add(
        actor=world.learner, project=project, user=world.other_learner, role=MemberRole.MEMBER
    )
    with pytest.raises(ValidationError) as refused:
        member_add(
            actor=world.learner, project=project, user=world.other_learner, role=MemberRole.MEMBER
        )
    assert refused.value.message_dict["user"] == [
        f"{world.other_learner} is already a member of this project."
    ]
    member_add(
        actor=world.learner, project=project, user=world.other_learner, role=MemberRole.MENTOR
    )
    assert (world.other_learner.pk, "mentor") in current(project)
    assert AuditEvent.objects.filter(action="project.member_add").count() == 2


def test_the_leader_takes_no_other_role_and_leader_is_never_added(world, project):
    with pytest.raises(ValidationError, match="leads this project"):
        member_add(actor=world.admin, project=project, user=world.learner, role=MemberRole.MENTOR)
    with pytest.raises(ValidationError) as refused:
        member_add(
            actor=world.admin, project=project, user=world.other_learner, role=MemberRole.LEADER
        )
    assert "role" in refused.value.message_dict


def test_a_member_or_another_learner_may_not_add(world, project):
    member_add(
        actor=world.learner, project=project, user=world.other_learner, role=MemberRole.MEMBER
    )
    stranger = learner_user()
    for actor in (world.other_learner, stranger):
        with pytest.raises(PermissionDenied):
            member_add(actor=actor, project=project, user=stranger, role=MemberRole.MEMBER)
    assert refusals("project.member_add") == 2


def test_a_finished_projects_team_no_longer_changes(world):
    project = world.project(status=ProjectStatus.COMPLETED)
    with pytest.raises(PermissionDenied):
        member_add(
            actor=world.admin, project=project, user=world.other_learner, role=MemberRole.MEMBER
        )


# --- Handing over -----------------------------------------------------------------------------


def test_handing_over_keeps_exactly_one_leader_and_tells_both(world, project):
    member_add(
        actor=world.learner, project=project, user=world.other_learner, role=MemberRole.MEMBER
    )
    leader_change(actor=world.learner, project=project, new_leader=world.other_learner)
    assert leaders(project) == 1
    assert current(project) == sorted(
        [(world.other_learner.pk, "leader"), (world.learner.pk, "member")]
    )
    old = project.members.get(user=world.learner, role=MemberRole.LEADER)
    assert old.left_date == timezone.localdate()
    assert project.members.get(user=world.other_learner, role=MemberRole.MEMBER).left_date
    event = AuditEvent.objects.get(action="project.leader_change")
    assert event.old_values == {"leader": world.learner.pk}
    assert event.new_values["leader"] == world.other_learner.pk
    told = OutboundEmail.objects.filter(template="project_leader_changed")
    assert sorted(told.values_list("recipient", flat=True)) == sorted(
        [world.learner.email, world.other_learner.email]
    )


def test_handing_over_to_the_leader_or_as_a_member_is_refused(world, project):
    with pytest.raises(ValidationError, match="already leads"):
        leader_change(actor=world.admin, project=project, new_leader=world.learner)
    with pytest.raises(PermissionDenied):
        leader_change(actor=world.other_learner, project=project, new_leader=world.other_learner)
    assert refusals("project.leader_change") == 1
    assert leaders(project) == 1
    assert not AuditEvent.objects.filter(action="project.leader_change").exists()


def test_the_old_leader_may_leave_the_team_entirely(world, project):
    leader_change(
        actor=world.admin,
        project=project,
        new_leader=world.other_learner,
        stays_as_member=False,
    )
    assert current(project) == [(world.other_learner.pk, "leader")]


# --- Leaving ----------------------------------------------------------------------------------


def test_a_member_leaves_and_the_row_stays(world, project):
    membership = member_add(
        actor=world.learner, project=project, user=world.other_learner, role=MemberRole.MEMBER
    )
    member_leave(actor=world.other_learner, membership=membership)
    membership.refresh_from_db()
    assert membership.left_date == timezone.localdate()
    event = AuditEvent.objects.get(action="project.member_leave")
    assert event.actor == world.other_learner
    with pytest.raises(ValidationError, match="already left"):
        member_leave(actor=world.learner, membership=membership)


def test_the_leader_cannot_leave(world, project):
    leadership = project.members.get(role=MemberRole.LEADER)
    with pytest.raises(ValidationError, match="hand it over"):
        member_leave(actor=world.learner, membership=leadership)
    assert leaders(project) == 1
    assert not AuditEvent.objects.filter(action="project.member_leave").exists()


def test_another_member_may_not_remove_someone(world, project):
    first = member_add(
        actor=world.learner, project=project, user=world.other_learner, role=MemberRole.MEMBER
    )
    second = member_add(
        actor=world.learner, project=project, user=world.reviewers[0], role=MemberRole.MENTOR
    )
    with pytest.raises(PermissionDenied):
        member_leave(actor=world.other_learner, membership=second)
    assert refusals("project.member_leave") == 1
    member_leave(actor=world.learner, membership=first)


# --- Pages ------------------------------------------------------------------------------------


def test_the_members_page_shows_current_and_past_members(world, project, client_of):
    membership = member_add(
        actor=world.learner, project=project, user=world.other_learner, role=MemberRole.MEMBER
    )
    member_leave(actor=world.learner, membership=membership)
    page = client_of(world.learner).get(reverse("projects:members", args=[project.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Past members" in body
    assert str(world.other_learner) in body
    assert "Add a person" in body


def test_the_person_search_finds_people_who_may_join(world, project, client_of):
    url = reverse("projects:member_add", args=[project.pk])
    client = client_of(world.learner)
    found = client.get(url, {"q": "olga"}, HTTP_HX_REQUEST="true")
    assert found.status_code == 200
    assert f'value="{world.organisation_member.pk}"' in found.content.decode()
    assert "<html" not in found.content.decode()
    outsider = UserFactory(roles=[SystemRole.SPONSOR_CONTACT], full_name="Olga Outsider")
    found = client.get(url, {"q": "olga"}, HTTP_HX_REQUEST="true")
    assert f'value="{outsider.pk}"' not in found.content.decode()
    added = client.post(url, {"user": world.organisation_member.pk, "role": "mentor"})
    assert added.status_code == 302
    twice = client.post(url, {"user": world.organisation_member.pk, "role": "mentor"})
    assert twice.status_code == 400
    assert "already a mentor" in twice.content.decode()


def test_the_leaders_leave_page_says_to_hand_over(world, project, client_of):
    leadership = project.members.get(role=MemberRole.LEADER)
    url = reverse("projects:member_leave", args=[leadership.pk])
    client = client_of(world.learner)
    assert "hand it over" in client.get(url).content.decode()
    refused = client.post(url)
    assert refused.status_code == 400
    assert leaders(project) == 1


def test_another_learner_gets_404_on_every_team_page(world, project, client_of):
    stranger = client_of(world.other_learner)
    leadership = project.members.get(role=MemberRole.LEADER)
    for url in (
        reverse("projects:members", args=[project.pk]),
        reverse("projects:member_add", args=[project.pk]),
        reverse("projects:leader_change", args=[project.pk]),
        reverse("projects:member_leave", args=[leadership.pk]),
    ):
        assert stranger.get(url).status_code == 404, url
    assert AuditEvent.objects.filter(actor=world.other_learner).exists()


def test_a_member_may_see_the_team_but_not_add(world, project, client_of):
    member_add(
        actor=world.learner, project=project, user=world.other_learner, role=MemberRole.MEMBER
    )
    client = client_of(world.other_learner)
    page = client.get(reverse("projects:members", args=[project.pk]))
    assert page.status_code == 200
    assert "Add a person" not in page.content.decode()
    assert client.get(reverse("projects:member_add", args=[project.pk])).status_code in (403, 404)


def test_another_institutions_project_is_not_found(world, project, client_for, other_institution):
    connection.set_tenant(other_institution)
    admin = UserFactory(roles=[SystemRole.ADMIN])
    client = client_for(other_institution)
    client.force_login(admin, backend="accounts.backends.RoleBackend")
    assert client.get(reverse("projects:members", args=[project.pk])).status_code == 404
    assert client.get(reverse("projects:milestones", args=[project.pk])).status_code == 404
