"""The proposal pages: My projects, a new proposal, the form and its htmx autosave, and the
submit, revise and delete confirm pages; another learner's and another institution's project
give the 404."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import SystemRole
from audit.models import AuditEvent
from projects.models import (
    InnovationProject,
    ProjectStatus,
    ProjectStatusChange,
)
from tests.factories import CohortFactory, UserFactory
from tests.projects.support import project_world
from tests.projects.test_proposals import END, START, enrol, ready_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    world = project_world(admin)
    enrol(world.learner, world.cohort)
    return world


@pytest.fixture
def learner_client(client_of, world):
    return client_of(world.learner)


def url(name, project=None):
    return reverse(f"projects:{name}", args=[project.pk] if project else [])


def form_data(project, **changes):
    data = {
        "title": project.title,
        "kind": project.kind,
        "cohort": project.cohort_id or "",
        "description": project.description,
        "problem_statement": project.problem_statement,
        "objectives": project.objectives,
        "expected_outcomes": project.expected_outcomes,
        "start_date": project.start_date.isoformat() if project.start_date else "",
        "end_date": project.end_date.isoformat() if project.end_date else "",
    }
    return data | changes


# --- My projects --------------------------------------------------------------------------------


def test_my_projects_shows_the_learners_projects_with_their_next_action(world, learner_client):
    world.project(title="A draft of mine")
    world.project(title="Sent back to me", round=1)
    world.project(title="Rejected one", status=ProjectStatus.REJECTED)
    running = world.project(title="Running one", status=ProjectStatus.IN_PROGRESS)
    world.milestone(running, due_date=datetime.date(2027, 2, 1), status="delayed")
    world.project(title="Not mine", leader=world.other_learner)
    page = learner_client.get(url("my_projects")).content.decode()
    assert "Finish your draft" in page
    assert "Sent back: see why" in page
    assert "Rejected: see why and revise" in page
    assert "1 milestone delayed" in page
    assert "Not mine" not in page
    assert "Propose a project" in page


def test_my_projects_explains_what_a_project_is_when_there_is_none(client_of, world):
    page = client_of(world.other_learner).get(url("my_projects")).content.decode()
    assert "An innovation project is an idea you work on with others" in page


def test_an_organisation_member_sees_their_projects_but_may_not_propose(client_of, world):
    page = client_of(world.organisation_member).get(url("my_projects"))
    assert page.status_code == 200
    assert "Propose a project" not in page.content.decode()
    assert client_of(world.organisation_member).get(url("proposal_new")).status_code == 404


def test_the_navbar_offers_my_projects_to_students_and_proposing_staff(client_of, world):
    assert "My projects" in client_of(world.learner).get(url("my_projects")).content.decode()
    trainer_page = client_of(world.reviewers[0]).get(url("my_projects")).content.decode()
    assert trainer_page.count(">My projects</a>") == 1
    admin_page = client_of(world.admin).get(url("my_projects")).content.decode()
    assert ">My projects</a>" not in admin_page


# --- Starting a proposal ------------------------------------------------------------------------


def test_a_new_proposal_starts_a_draft_and_goes_to_its_form(world, learner_client):
    response = learner_client.post(
        url("proposal_new"), {"title": "Kiosks", "kind": "venture", "cohort": world.cohort.pk}
    )
    project = InnovationProject.objects.get()
    assert response.url == url("proposal_edit", project)
    assert (project.cohort, project.programme) == (world.cohort, world.programme)


def test_a_learner_is_offered_only_their_cohorts(world, learner_client):
    page = learner_client.get(url("proposal_new")).content.decode()
    assert world.cohort.name in page
    assert 'name="programme"' not in page


def test_a_learner_whose_cohort_has_no_programme_is_offered_the_programme(world, learner_client):
    unattached = CohortFactory(name="Evening intake", programme=None, active=True)
    enrol(world.learner, unattached)
    page = learner_client.get(url("proposal_new")).content.decode()
    assert 'name="programme"' in page
    assert "Only for a cohort that belongs to no programme" in page
    learner_client.post(
        url("proposal_new"),
        {
            "title": "Kiosks",
            "kind": "venture",
            "cohort": unattached.pk,
            "programme": world.programme.pk,
        },
    )
    project = InnovationProject.objects.get()
    assert (project.cohort, project.programme) == (unattached, world.programme)
    edit_page = learner_client.get(url("proposal_edit", project)).content.decode()
    assert 'name="programme"' in edit_page


def test_a_new_proposal_without_a_title_is_shown_again(learner_client):
    response = learner_client.post(url("proposal_new"), {"title": "", "kind": "venture"})
    assert response.status_code == 400
    assert not InnovationProject.objects.exists()


# --- The form and its autosave -----------------------------------------------------------------


def test_the_form_shows_the_draft(world, learner_client):
    project = world.project(title="Kiosks")
    page = learner_client.get(url("proposal_edit", project))
    assert page.status_code == 200
    assert 'hx-post="{}"'.format(url("proposal_autosave", project)) in page.content.decode()
    assert "Draft saved at" in page.content.decode()


def test_save_without_javascript_saves_and_comes_back(world, learner_client):
    project = world.project(title="Kiosks")
    response = learner_client.post(
        url("proposal_edit", project), form_data(project, objectives="Three kiosks.")
    )
    assert response.url == url("proposal_edit", project)
    project.refresh_from_db()
    assert project.objectives == "Three kiosks."


def test_the_autosave_saves_and_says_when(world, learner_client):
    project = world.project(title="Kiosks")
    response = learner_client.post(
        url("proposal_autosave", project),
        form_data(project, description="Kiosks at ranks."),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Draft saved at" in response.content.decode()
    project.refresh_from_db()
    assert project.description == "Kiosks at ranks."
    assert AuditEvent.objects.filter(action="project.proposal_update").count() == 1
    learner_client.post(
        url("proposal_autosave", project), form_data(project), HTTP_HX_REQUEST="true"
    )
    assert AuditEvent.objects.filter(action="project.proposal_update").count() == 1


def test_the_autosave_keeps_the_rest_when_the_dates_are_wrong(world, learner_client):
    project = world.project(title="Kiosks")
    response = learner_client.post(
        url("proposal_autosave", project),
        form_data(
            project,
            objectives="Two kiosks.",
            start_date=END.isoformat(),
            end_date=START.isoformat(),
        ),
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert 'id="error-end_date"' in body
    assert "The end date comes before the start date." in body
    assert 'hx-swap-oob="true"' in body
    project.refresh_from_db()
    assert project.objectives == "Two kiosks."
    assert (project.start_date, project.end_date) == (None, None)


def test_the_autosave_of_a_submitted_project_changes_nothing(world, learner_client):
    project = world.project(status=ProjectStatus.SUBMITTED)
    response = learner_client.post(
        url("proposal_autosave", project), form_data(project, title="Changed")
    )
    assert "can no longer be changed" in response.content.decode()
    project.refresh_from_db()
    assert project.title == "Solar kiosks for taxi ranks"


def test_a_submitted_project_has_no_form(world, learner_client):
    project = world.project(status=ProjectStatus.SUBMITTED)
    response = learner_client.get(url("proposal_edit", project))
    assert response.url == url("my_projects")


def test_submit_for_review_saves_first_and_goes_to_the_submit_page(world, learner_client):
    project = world.project(title="Kiosks")
    response = learner_client.post(
        url("proposal_edit", project), form_data(project, title="Solar kiosks", next="submit")
    )
    assert response.url == url("proposal_submit", project)
    project.refresh_from_db()
    assert project.title == "Solar kiosks"


def test_the_sent_back_reason_is_shown_on_the_form(world, learner_client):
    project = world.project(round=1)
    ProjectStatusChange.objects.create(
        project=project,
        round=1,
        from_status=ProjectStatus.IN_REVIEW,
        to_status=ProjectStatus.DRAFT,
        reason="Say how you will pay for the panels.",
        actor=world.admin,
    )
    page = learner_client.get(url("proposal_edit", project)).content.decode()
    assert "Why the proposal was sent back" in page
    assert "Say how you will pay for the panels." in page


# --- Submitting, revising, deleting ------------------------------------------------------------


def test_the_submit_page_lists_what_is_missing_with_links_back(world, learner_client):
    project = world.project(title="Kiosks", objectives="")
    page = learner_client.get(url("proposal_submit", project)).content.decode()
    assert "Still missing" in page
    assert '{}#id_objectives">Objectives</a>'.format(url("proposal_edit", project)) in page
    assert "Submit for review</button>" not in page
    response = learner_client.post(url("proposal_submit", project))
    assert response.status_code == 400
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT


def test_the_submit_page_submits(world, learner_client):
    project = ready_project(world)
    page = learner_client.get(url("proposal_submit", project)).content.decode()
    assert "This is what the review panel" in page
    response = learner_client.post(url("proposal_submit", project))
    assert response.url == url("my_projects")
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED


def test_the_revise_page_shows_the_reason_and_revises(world, learner_client):
    project = world.project(status=ProjectStatus.REJECTED)
    ProjectStatusChange.objects.create(
        project=project,
        round=1,
        from_status=ProjectStatus.IN_REVIEW,
        to_status=ProjectStatus.REJECTED,
        reason="The market is too small.",
        actor=world.admin,
    )
    page = learner_client.get(url("proposal_revise", project)).content.decode()
    assert "The market is too small." in page
    response = learner_client.post(url("proposal_revise", project))
    assert response.url == url("proposal_edit", project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT
    assert "Why the proposal was rejected" in learner_client.get(response.url).content.decode()


def test_the_delete_page_asks_then_deletes(world, learner_client):
    project = world.project(title="Kiosks")
    page = learner_client.get(url("proposal_delete", project)).content.decode()
    assert "Delete the draft?" in page
    response = learner_client.post(url("proposal_delete", project))
    assert response.url == url("my_projects")
    assert not InnovationProject.objects.filter(pk=project.pk).exists()


def test_a_submitted_draft_offers_no_delete(world, learner_client):
    project = world.project(round=1)
    page = learner_client.get(url("proposal_edit", project)).content.decode()
    assert "Delete the draft" not in page
    learner_client.post(url("proposal_delete", project))
    assert InnovationProject.objects.filter(pk=project.pk).exists()


# --- Who reaches them --------------------------------------------------------------------------


PAGES = (
    "proposal_edit",
    "proposal_autosave",
    "proposal_submit",
    "proposal_revise",
    "proposal_delete",
)


def test_another_learners_project_is_not_found(client_of, world):
    project = world.project(status=ProjectStatus.DRAFT)
    other = client_of(world.other_learner)
    for name in PAGES:
        assert other.get(url(name, project)).status_code in (404, 405), name
        assert other.post(url(name, project)).status_code == 404, name
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT
    assert AuditEvent.objects.filter(action="permission.denied").count() == 2 * len(PAGES) - 1


def test_another_institutions_project_is_not_found(
    client_of, world, institution, other_institution
):
    connection.set_tenant(other_institution)
    try:
        elsewhere = project_world(UserFactory(roles=[SystemRole.ADMIN]))
        project = elsewhere.project(title="Beta's kiosks")
    finally:
        connection.set_tenant(institution)
    assert not InnovationProject.objects.filter(title="Beta's kiosks").exists()
    admin = client_of(world.admin)
    for name in PAGES:
        assert admin.post(url(name, project)).status_code == 404, name


def test_my_projects_makes_as_many_queries_for_many_projects_as_for_few(world, learner_client):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert learner_client.get(url("my_projects")).status_code == 200
        return len(captured)

    for _ in range(2):
        world.project(status=ProjectStatus.IN_PROGRESS)
    few = queries()
    for _ in range(10):
        running = world.project(status=ProjectStatus.IN_PROGRESS)
        world.milestone(running, due_date=START, status="delayed")
    assert queries() == few
