"""Proposing a project: starting a draft, saving it (the autosave), submitting it, revising a
rejected proposal and deleting a draft never submitted; each rule and refusal with its event."""

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError

from accounts.models import SystemRole
from accounts.selectors import users_with_permission
from audit.models import AuditEvent
from audit.services import CHANGED
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.models import Learner
from notifications.models import OutboundEmail
from projects.access import MANAGE_PROJECTS
from projects.models import (
    InnovationProject,
    MemberRole,
    ProjectMember,
    ProjectStatus,
    ProjectStatusChange,
    ReviewCriterion,
)
from projects.services.proposals import (
    proposal_create,
    proposal_delete,
    proposal_revise,
    proposal_submit,
    proposal_update,
)
from tests.factories import CohortFactory, ProgrammeFactory, UserFactory
from tests.projects.support import project_world

pytestmark = pytest.mark.django_db

START = datetime.date(2027, 3, 1)
END = datetime.date(2027, 9, 30)


@pytest.fixture
def world(admin):
    world = project_world(admin)
    enrol(world.learner, world.cohort)
    enrol(world.other_learner, world.cohort)
    return world


def enrol(user, cohort, state=EnrollmentState.IN_PROGRESS):
    enrolment = CohortEnrollment.objects.create(
        cohort=cohort, user=user, learner=Learner.objects.get(user=user)
    )
    CohortEnrollment.objects.filter(pk=enrolment.pk).update(state=state)
    return enrolment


def events(action, project=None):
    found = AuditEvent.objects.filter(action=action)
    if project is not None:
        found = found.filter(entity_type="projects.innovationproject", entity_id=str(project.pk))
    return list(found)


def refusals(action):
    return AuditEvent.objects.filter(action="permission.denied", entity_id=action).count()


def ready_project(world, **fields):
    """A project with every field a reviewer reads."""
    return world.project(start_date=START, end_date=END, **fields)


def project_mail():
    return OutboundEmail.objects.filter(template__startswith="project_")


def complete_fields():
    return {
        "description": "Phone charging where commuters wait.",
        "problem_statement": "Commuters' phones run flat.",
        "objectives": "Build and run two kiosks.",
        "expected_outcomes": "Fifty charges a day.",
        "start_date": START,
        "end_date": END,
    }


# --- Starting a draft ---------------------------------------------------------------------------


def test_a_learner_starts_a_draft_with_a_title_and_leads_it(world):
    project = proposal_create(actor=world.learner, title="  Solar kiosks  ")
    assert project.status == ProjectStatus.DRAFT
    assert project.title == "Solar kiosks"
    assert project.created_by == world.learner
    assert project.round == 0
    # The learner's only cohort, and its programme.
    assert project.cohort == world.cohort
    assert project.programme == world.programme
    leader = ProjectMember.objects.get(project=project)
    assert (leader.user, leader.role, leader.left_date) == (world.learner, MemberRole.LEADER, None)
    (event,) = events("project.proposal_create", project)
    assert event.new_values["title"] == CHANGED
    assert event.new_values["cohort"] == world.cohort.pk
    assert event.new_values["leader"] == world.learner.pk


def test_a_learner_in_two_cohorts_gets_the_latest_unless_they_choose(world):
    later = CohortFactory(
        name="Business Practice 2028",
        programme=world.programme,
        active=True,
        start_date=datetime.date(2028, 1, 10),
        end_date=datetime.date(2028, 12, 1),
    )
    enrol(world.learner, later)
    assert proposal_create(actor=world.learner, title="Latest").cohort == later
    assert proposal_create(actor=world.learner, title="Chosen", cohort=world.cohort).cohort == (
        world.cohort
    )


def test_a_learner_cannot_pick_another_cohort(world):
    elsewhere = CohortFactory(name="Somebody else's", programme=world.programme, active=True)
    with pytest.raises(ValidationError) as refused:
        proposal_create(actor=world.learner, title="Kiosks", cohort=elsewhere)
    assert "cohort" in refused.value.error_dict
    assert not InnovationProject.objects.exists()


def test_a_withdrawn_enrolment_gives_no_cohort(world):
    CohortEnrollment.objects.filter(user=world.learner).update(state=EnrollmentState.WITHDRAWN)
    with pytest.raises(ValidationError):
        proposal_create(actor=world.learner, title="Kiosks", cohort=world.cohort)
    assert proposal_create(actor=world.learner, title="Kiosks").cohort is None


def test_staff_choose_any_programme_and_cohort_of_it(world):
    trainer = world.reviewers[0]
    other_programme = ProgrammeFactory(name="Hospitality NQF 2")
    project = proposal_create(actor=trainer, title="Menu costing", programme=other_programme)
    assert (project.programme, project.cohort) == (other_programme, None)
    project = proposal_create(actor=trainer, title="Kiosks", cohort=world.cohort)
    assert project.programme == world.programme


def test_a_cohort_of_another_programme_is_refused_clearly(world):
    other_programme = ProgrammeFactory(name="Hospitality NQF 2")
    with pytest.raises(ValidationError) as refused:
        proposal_create(
            actor=world.admin, title="Kiosks", programme=other_programme, cohort=world.cohort
        )
    (message,) = refused.value.error_dict["cohort"][0].messages
    assert "Business Practice 2027 is not a cohort of Hospitality NQF 2" in message


def test_a_title_is_needed(world):
    with pytest.raises(ValidationError) as refused:
        proposal_create(actor=world.learner, title="   ")
    assert "title" in refused.value.error_dict


def test_someone_who_may_not_propose_is_refused_and_it_is_audited(world):
    with pytest.raises(PermissionDenied):
        proposal_create(actor=world.organisation_member, title="Kiosks")
    assert refusals("project.proposal_create") == 1
    assert not InnovationProject.objects.exists()


# --- Saving the draft ---------------------------------------------------------------------------


def test_saving_records_which_fields_changed_never_the_words(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    project, changed = proposal_update(
        actor=world.learner,
        project=project,
        title="Kiosks",
        description="My sister's illness made me see it.",
        start_date=START,
    )
    assert changed == ["description", "start_date"]
    project.refresh_from_db()
    assert project.description == "My sister's illness made me see it."
    (event,) = events("project.proposal_update", project)
    assert event.new_values == {"description": CHANGED, "start_date": "2027-03-01"}
    assert "sister" not in str(event.old_values) + str(event.new_values)
    assert event.old_values == {"start_date": None}


def test_a_save_that_changes_nothing_writes_no_event(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    project, changed = proposal_update(actor=world.learner, project=project, title="Kiosks ")
    assert changed == []
    assert events("project.proposal_update") == []


def test_an_incomplete_draft_is_saved(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    proposal_update(actor=world.learner, project=project, objectives="Two kiosks.")
    project.refresh_from_db()
    assert project.objectives == "Two kiosks."
    assert project.description == ""


def test_the_end_date_may_not_come_before_the_start(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    proposal_update(actor=world.learner, project=project, start_date=END)
    with pytest.raises(ValidationError) as refused:
        proposal_update(actor=world.learner, project=project, end_date=START)
    assert "end_date" in refused.value.error_dict
    project.refresh_from_db()
    assert project.end_date is None


def test_a_learner_cannot_move_their_draft_to_another_cohort(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    elsewhere = CohortFactory(name="Somebody else's", programme=world.programme, active=True)
    with pytest.raises(ValidationError) as refused:
        proposal_update(actor=world.learner, project=project, cohort=elsewhere)
    assert "cohort" in refused.value.error_dict


def test_another_learner_cannot_edit_the_draft(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    with pytest.raises(PermissionDenied):
        proposal_update(actor=world.other_learner, project=project, title="Mine now")
    assert refusals("project.proposal_update") == 1
    project.refresh_from_db()
    assert project.title == "Kiosks"


def test_a_submitted_project_cannot_be_edited(world):
    project = world.project(status=ProjectStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        proposal_update(actor=world.learner, project=project, title="Changed")
    assert refusals("project.proposal_update") == 1
    project.refresh_from_db()
    assert project.title == "Solar kiosks for taxi ranks"


def test_a_manager_edits_a_learners_draft(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    proposal_update(actor=world.admin, project=project, title="Solar kiosks")
    (event,) = events("project.proposal_update", project)
    assert event.actor == world.admin


# --- Submitting ---------------------------------------------------------------------------------


def test_submitting_a_complete_draft_moves_it_and_emails_the_leader_and_managers(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    proposal_update(actor=world.learner, project=project, **complete_fields())
    project = proposal_submit(actor=world.learner, project=project)
    assert project.status == ProjectStatus.SUBMITTED
    assert project.round == 1
    assert project.submitted_at is not None
    (event,) = events("project.submit", project)
    assert event.new_values["status"] == ProjectStatus.SUBMITTED
    change = ProjectStatusChange.objects.get(project=project)
    assert (change.from_status, change.to_status) == (ProjectStatus.DRAFT, ProjectStatus.SUBMITTED)
    mail = {(email.recipient, email.template) for email in project_mail()}
    managers = set(users_with_permission(MANAGE_PROJECTS).values_list("email", flat=True))
    assert world.admin.email in managers
    assert world.learner.email not in managers
    assert mail == {(world.learner.email, "project_proposal_submitted")} | {
        (email, "project_proposal_to_review") for email in managers
    }
    to_learner = project_mail().get(recipient=world.learner.email)
    assert to_learner.context["url"].endswith("/projects/my/")
    to_admin = project_mail().get(recipient=world.admin.email)
    assert to_admin.context["url"].endswith(f"/projects/{project.pk}/")
    assert to_admin.context["leader_name"] == world.learner.full_name


def test_a_deactivated_manager_is_not_emailed(world):
    retired = UserFactory(roles=[SystemRole.ADMIN], is_active=False)
    proposal_submit(actor=world.learner, project=ready_project(world))
    assert project_mail().filter(recipient=world.admin.email).exists()
    assert not project_mail().filter(recipient=retired.email).exists()


def test_submitting_an_incomplete_draft_lists_what_is_missing(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    proposal_update(actor=world.learner, project=project, description="Kiosks.")
    with pytest.raises(ValidationError) as refused:
        proposal_submit(actor=world.learner, project=project)
    errors = refused.value.error_dict
    assert set(errors) == {
        "problem_statement",
        "objectives",
        "expected_outcomes",
        "start_date",
        "end_date",
        NON_FIELD_ERRORS,
    }
    (summary,) = errors[NON_FIELD_ERRORS][0].messages
    assert summary == (
        "Before it can be submitted for review, fill in the problem statement, objectives, "
        "expected outcomes, start date and end date."
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT
    assert events("project.submit") == []
    assert not project_mail().exists()


def test_a_programme_is_needed_to_submit(world):
    project = world.project(programme=None, cohort=None)
    with pytest.raises(ValidationError) as refused:
        proposal_submit(actor=world.learner, project=project)
    assert "programme" in refused.value.error_dict


def test_a_learner_whose_cohort_has_no_programme_names_one_and_submits(world):
    unattached = CohortFactory(name="Evening intake", programme=None, active=True)
    CohortEnrollment.objects.filter(user=world.learner).delete()
    enrol(world.learner, unattached)
    project = proposal_create(actor=world.learner, title="Kiosks", programme=world.programme)
    assert (project.cohort, project.programme) == (unattached, world.programme)
    project, changed = proposal_update(
        actor=world.learner,
        project=project,
        programme=None,
        cohort=unattached,
        **complete_fields(),
    )
    assert project.programme is None
    project, changed = proposal_update(
        actor=world.learner, project=project, programme=world.programme, cohort=unattached
    )
    assert changed == ["programme"]
    assert proposal_submit(actor=world.learner, project=project).status == ProjectStatus.SUBMITTED


def test_a_learners_cohort_of_a_programme_still_brings_its_own(world):
    other_programme = ProgrammeFactory(name="Hospitality NQF 2")
    project = proposal_create(
        actor=world.learner, title="Kiosks", programme=other_programme, cohort=world.cohort
    )
    assert project.programme == world.programme


def test_submitting_needs_the_institutions_review_criteria(world):
    ReviewCriterion.objects.update(is_active=False)
    project = ready_project(world)
    with pytest.raises(ValidationError) as refused:
        proposal_submit(actor=world.learner, project=project)
    assert "Ask an administrator who manages projects" in refused.value.messages[0]
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT


def test_another_learner_cannot_submit(world):
    project = world.project()
    with pytest.raises(PermissionDenied):
        proposal_submit(actor=world.other_learner, project=project)
    assert refusals("project.submit") == 1
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT


def test_a_submitted_project_is_not_submitted_again(world):
    project = world.project(status=ProjectStatus.SUBMITTED)
    with pytest.raises(ValidationError):
        proposal_submit(actor=world.learner, project=project)
    project.refresh_from_db()
    assert project.round == 1


# --- Revising a rejected proposal ----------------------------------------------------------------


def test_a_rejected_proposal_is_revised_into_a_draft_and_resubmitted_as_round_two(world):
    project = ready_project(world, status=ProjectStatus.REJECTED)
    project = proposal_revise(actor=world.learner, project=project)
    assert project.status == ProjectStatus.DRAFT
    assert project.round == 1
    (event,) = events("project.revise", project)
    assert event.old_values == {"status": ProjectStatus.REJECTED}
    project = proposal_submit(actor=world.learner, project=project)
    assert project.round == 2
    assert ProjectStatusChange.objects.filter(project=project).count() == 2


def test_only_a_rejected_proposal_is_revised(world):
    project = world.project(status=ProjectStatus.IN_REVIEW)
    with pytest.raises(ValidationError):
        proposal_revise(actor=world.learner, project=project)
    assert events("project.revise") == []


def test_another_learner_cannot_revise(world):
    project = world.project(status=ProjectStatus.REJECTED)
    with pytest.raises(PermissionDenied):
        proposal_revise(actor=world.other_learner, project=project)
    assert refusals("project.revise") == 1


def test_a_manager_revises(world):
    project = world.project(status=ProjectStatus.REJECTED)
    assert proposal_revise(actor=world.admin, project=project).status == ProjectStatus.DRAFT


# --- Deleting a draft ----------------------------------------------------------------------------


def test_a_draft_never_submitted_is_deleted_with_its_members_and_milestones(world):
    project = proposal_create(actor=world.learner, title="Kiosks")
    world.milestone(project, due_date=END)
    pk = project.pk
    proposal_delete(actor=world.learner, project=project)
    assert not InnovationProject.objects.filter(pk=pk).exists()
    assert not ProjectMember.objects.filter(project_id=pk).exists()
    (event,) = events("project.proposal_delete")
    assert event.entity_id == str(pk)


def test_a_draft_that_was_submitted_once_is_kept(world):
    project = world.project(status=ProjectStatus.DRAFT, round=1)
    with pytest.raises(ValidationError):
        proposal_delete(actor=world.learner, project=project)
    assert InnovationProject.objects.filter(pk=project.pk).exists()
    assert events("project.proposal_delete") == []


def test_another_learner_cannot_delete(world):
    project = world.project()
    with pytest.raises(PermissionDenied):
        proposal_delete(actor=world.other_learner, project=project)
    assert refusals("project.proposal_delete") == 1
    assert InnovationProject.objects.filter(pk=project.pk).exists()
