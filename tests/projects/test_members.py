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
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.models import Learner
from notifications.models import OutboundEmail
from projects.models import MemberRole, ProjectStatus, ReviewAssignment
from projects.services.members import leader_change, member_add, member_leave
from tests.factories import CohortFactory, UserFactory
from tests.projects.support import learner_user, project_world

pytestmark = pytest.mark.django_db


def enrol(user, cohort):
    """`user` (a learner) takes a place in `cohort`."""
    return CohortEnrollment.objects.create(
        cohort=cohort, user=user, learner=Learner.objects.get(user=user)
    )


@pytest.fixture
def world(admin):
    """The world with both learners in its cohort."""
    world = project_world(admin)
    for learner in (world.learner, world.other_learner):
        enrol(learner, world.cohort)
    return world


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
    assert "cannot join this project" in refused.value.message_dict["user"][0]
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


# --- Whom a leader may find and add ------------------------------------------------------------


def search(client, project, query):
    url = reverse("projects:member_add", args=[project.pk])
    return client.get(url, {"q": query}, HTTP_HX_REQUEST="true").content.decode()


def test_a_leaders_search_shows_names_and_kinds_never_email_addresses(world, project, client_of):
    found = search(client_of(world.learner), project, "Other")
    assert f'value="{world.other_learner.pk}"' in found
    assert "Pieter Other" in found
    assert "learner" in found
    assert world.other_learner.email not in found
    assert "@" not in found
    staff = search(client_of(world.learner), project, "Rami")
    assert "Rami Reviewer" in staff
    assert "staff" in staff
    organisation = search(client_of(world.learner), project, "Olga")
    assert "host organisation" in organisation
    # By e-mail address a leader finds nobody.
    assert 'value="' not in search(client_of(world.learner), project, "example.org")


def test_a_leaders_search_needs_three_letters_and_shows_ten(world, project, client_of):
    for number in range(12):
        enrol(learner_user(full_name=f"Zola Many {number}"), world.cohort)
    client = client_of(world.learner)
    short = search(client, project, "Zo")
    assert 'value="' not in short
    assert "at least 3 letters" in short
    assert search(client, project, "Zol").count('name="user"') == 10


def test_a_leaders_search_finds_learners_of_the_projects_cohort_only(world, project, client_of):
    elsewhere = learner_user(full_name="Xolani Elsewhere")
    enrol(elsewhere, CohortFactory(name="Other cohort"))
    withdrawn = learner_user(full_name="Xolani Withdrawn")
    place = enrol(withdrawn, world.cohort)
    CohortEnrollment.objects.filter(pk=place.pk).update(state=EnrollmentState.WITHDRAWN)
    unenrolled = learner_user(full_name="Xolani Unenrolled")
    found = search(client_of(world.learner), project, "Xolani")
    assert 'value="' not in found
    managers = search(client_of(world.admin), project, "Xolani")
    for person in (elsewhere, withdrawn, unenrolled):
        assert f'value="{person.pk}"' in managers
    assert elsewhere.email in managers


def test_without_a_cohort_the_leaders_own_cohorts_count(world, client_of):
    project = world.project(status=ProjectStatus.IN_PROGRESS, cohort=None)
    mine = CohortFactory(name="Leader's evening class")
    enrol(world.learner, mine)
    classmate = learner_user(full_name="Xolani Classmate")
    enrol(classmate, mine)
    stranger = learner_user(full_name="Xolani Stranger")
    enrol(stranger, CohortFactory(name="Someone else's cohort"))
    found = search(client_of(world.learner), project, "Xolani")
    assert f'value="{classmate.pk}"' in found
    assert f'value="{stranger.pk}"' not in found


def test_a_person_outside_the_leaders_circle_is_refused_on_the_form_and_by_the_service(
    world, project, client_of
):
    stranger = learner_user(full_name="Xolani Stranger")
    enrol(stranger, CohortFactory(name="Someone else's cohort"))
    client = client_of(world.learner)
    for name, data in (
        ("member_add", {"user": stranger.pk, "role": "member"}),
        ("leader_change", {"user": stranger.pk, "stays_as_member": "on"}),
    ):
        refused = client.post(reverse(f"projects:{name}", args=[project.pk]), data)
        assert refused.status_code == 400, name
        assert "Choose a person from the search results." in refused.content.decode()
    with pytest.raises(ValidationError) as refused_add:
        member_add(actor=world.learner, project=project, user=stranger, role=MemberRole.MEMBER)
    assert "cannot join this project" in refused_add.value.message_dict["user"][0]
    with pytest.raises(ValidationError) as refused_lead:
        leader_change(actor=world.learner, project=project, new_leader=stranger)
    assert "cannot join this project" in refused_lead.value.message_dict["user"][0]
    assert current(project) == [(world.learner.pk, "leader")]
    # A manager may add any learner.
    member_add(actor=world.admin, project=project, user=stranger, role=MemberRole.MEMBER)


def test_a_reviewer_with_an_open_review_does_not_join_the_team(world, client_of):
    project = world.project(status=ProjectStatus.IN_REVIEW)
    reviewer = world.reviewers[0]
    assignment = ReviewAssignment.objects.create(
        project=project, round=project.round, reviewer=reviewer
    )
    with pytest.raises(ValidationError) as refused_add:
        member_add(actor=world.admin, project=project, user=reviewer, role=MemberRole.MENTOR)
    assert "is reviewing this project" in refused_add.value.message_dict["user"][0]
    with pytest.raises(ValidationError) as refused_lead:
        leader_change(actor=world.admin, project=project, new_leader=reviewer)
    assert "is reviewing this project" in refused_lead.value.message_dict["user"][0]
    page = client_of(world.admin).post(
        reverse("projects:member_add", args=[project.pk]),
        {"user": reviewer.pk, "role": "mentor"},
    )
    assert page.status_code == 400
    assert "is reviewing this project" in page.content.decode()
    changes = ["project.member_add", "project.leader_change"]
    assert not AuditEvent.objects.filter(action__in=changes).exists()
    assignment.submitted_at = timezone.now()
    assignment.save(update_fields=["submitted_at"])
    member_add(actor=world.admin, project=project, user=reviewer, role=MemberRole.MENTOR)
    assert (reviewer.pk, "mentor") in current(project)
