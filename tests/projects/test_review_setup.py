"""The institution's review set-up: criteria (unique names, scores out of 1 to 100, deactivated
rather than deleted) and panels (people who may review, or a role), each change audited; and
their pages."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import Role, SystemRole
from audit.models import AuditEvent
from projects.models import ReviewAssignment, ReviewCriterion, ReviewPanel, ReviewScore
from projects.services.review_setup import (
    criterion_active_set,
    criterion_create,
    criterion_update,
    panel_create,
    panel_update,
)
from tests.factories import ProgrammeFactory, UserFactory
from tests.projects.support import ProjectWorld, project_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin) -> ProjectWorld:
    return project_world(admin)


def text(response) -> str:
    return response.content.decode()


# --- Criteria ---------------------------------------------------------------------------------


def test_a_criterion_is_created_and_audited(world):
    criterion = criterion_create(
        actor=world.admin, name="  Team  ", description="Who does what.", max_score=20, position=4
    )
    assert (criterion.name, criterion.max_score, criterion.is_active) == ("Team", 20, True)
    event = AuditEvent.objects.get(action="project.criterion_create")
    assert event.new_values["name"] == "Team"
    assert event.new_values["max_score"] == 20


def test_a_criterion_name_is_unique_whatever_its_case(world):
    with pytest.raises(ValidationError) as refused:
        criterion_create(
            actor=world.admin, name="feasibility", description="", max_score=5, position=0
        )
    assert refused.value.error_dict["name"][0].messages == [
        "There is already a criterion called feasibility."
    ]


@pytest.mark.parametrize("max_score", [0, 101])
def test_a_criterions_highest_score_is_1_to_100(world, max_score):
    with pytest.raises(ValidationError) as refused:
        criterion_create(
            actor=world.admin, name="Budget", description="", max_score=max_score, position=0
        )
    assert "max_score" in refused.value.error_dict


def test_a_criterion_is_updated_with_its_old_values_audited(world):
    criterion = world.criteria[0]
    criterion_update(
        actor=world.admin,
        criterion=criterion,
        name="Problem",
        description="Is it real?",
        max_score=7,
        position=9,
    )
    criterion.refresh_from_db()
    assert (criterion.name, criterion.max_score, criterion.position) == ("Problem", 7, 9)
    event = AuditEvent.objects.get(action="project.criterion_update")
    assert event.old_values["name"] == "Problem and need"
    assert event.new_values["name"] == "Problem"


def test_a_scored_criterions_highest_score_no_longer_changes(world):
    criterion = world.criteria[0]
    project = world.project(status="in_review")
    assignment = ReviewAssignment.objects.create(
        project=project, round=1, reviewer=world.reviewers[0]
    )
    ReviewScore.objects.create(assignment=assignment, criterion=criterion, score=3)
    with pytest.raises(ValidationError) as refused:
        criterion_update(
            actor=world.admin,
            criterion=criterion,
            name=criterion.name,
            description="",
            max_score=10,
            position=1,
        )
    assert "scored out of 5 already" in str(refused.value)
    # The name may still change.
    criterion_update(
        actor=world.admin,
        criterion=criterion,
        name="Need",
        description="",
        max_score=5,
        position=1,
    )


def test_a_criterion_is_deactivated_and_reactivated_never_deleted(world):
    criterion = world.criteria[2]
    criterion_active_set(actor=world.admin, criterion=criterion, active=False)
    criterion.refresh_from_db()
    assert not criterion.is_active
    with pytest.raises(ValidationError, match="already out of use"):
        criterion_active_set(actor=world.admin, criterion=criterion, active=False)
    criterion_active_set(actor=world.admin, criterion=criterion, active=True)
    criterion.refresh_from_db()
    assert criterion.is_active
    assert AuditEvent.objects.filter(action="project.criterion_deactivate").count() == 1
    assert AuditEvent.objects.filter(action="project.criterion_reactivate").count() == 1


def test_only_managers_set_up_criteria(world):
    with pytest.raises(PermissionDenied):
        criterion_create(
            actor=world.reviewers[0], name="Budget", description="", max_score=5, position=0
        )
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="project.criterion_create"
    ).exists()


# --- Panels -----------------------------------------------------------------------------------


def test_a_panel_for_every_programme_is_created_and_audited(world):
    panel = panel_create(
        actor=world.admin, programme=None, role=None, reviewers=[world.reviewers[0]]
    )
    assert panel.programme is None
    assert list(panel.reviewers.all()) == [world.reviewers[0]]
    event = AuditEvent.objects.get(action="project.panel_create")
    assert event.new_values["reviewers"] == [world.reviewers[0].pk]


def test_a_panel_needs_a_reviewer_or_a_role(world):
    with pytest.raises(ValidationError, match="at least one reviewer or a role"):
        panel_create(actor=world.admin, programme=None, role=None, reviewers=[])
    trainers = Role.objects.get(key=SystemRole.TRAINER)
    panel = panel_create(actor=world.admin, programme=None, role=trainers, reviewers=[])
    assert panel.role == trainers


def test_one_panel_per_programme(world):
    with pytest.raises(ValidationError, match="There is a panel for Business Practice NQF 4"):
        panel_create(
            actor=world.admin, programme=world.programme, role=None, reviewers=[world.admin]
        )


@pytest.mark.parametrize("who", ["learner", "student", "inactive"])
def test_learners_and_people_out_of_service_never_review(world, who):
    person = {
        "learner": world.learner,
        "student": UserFactory(roles=[SystemRole.STUDENT], full_name="Stu Dent"),
        "inactive": UserFactory(roles=[SystemRole.TRAINER], is_active=False, full_name="Gone"),
    }[who]
    with pytest.raises(ValidationError) as refused:
        panel_create(
            actor=world.admin,
            programme=ProgrammeFactory(),
            role=None,
            reviewers=[world.reviewers[0], person],
        )
    assert person.full_name in str(refused.value.error_dict["reviewers"])


def test_the_student_role_is_never_a_panels_role(world):
    with pytest.raises(ValidationError) as refused:
        panel_create(
            actor=world.admin,
            programme=None,
            role=Role.objects.get(key=SystemRole.STUDENT),
            reviewers=[],
        )
    assert "role" in refused.value.error_dict


def test_a_panel_update_audits_who_was_added_and_removed(world):
    panel = ReviewPanel.objects.get(programme=world.programme)
    first, second = world.reviewers
    newcomer = UserFactory(roles=[SystemRole.TRAINER])
    panel_update(actor=world.admin, panel=panel, role=None, reviewers=[second, newcomer])
    assert set(panel.reviewers.all()) == {second, newcomer}
    event = AuditEvent.objects.get(action="project.panel_update")
    assert event.new_values["reviewers_added"] == [newcomer.pk]
    assert event.new_values["reviewers_removed"] == [first.pk]
    assert sorted(event.old_values["reviewers"]) == sorted([first.pk, second.pk])


def test_only_managers_set_up_panels(world):
    panel = ReviewPanel.objects.get(programme=world.programme)
    with pytest.raises(PermissionDenied):
        panel_update(actor=world.reviewers[0], panel=panel, role=None, reviewers=[])


# --- Pages ------------------------------------------------------------------------------------


def test_the_criteria_pages_add_edit_and_deactivate(world, client_of):
    client = client_of(world.admin)
    listing = client.get(reverse("projects:criteria"))
    assert listing.status_code == 200
    assert "Problem and need" in text(listing)
    added = client.post(
        reverse("projects:criterion_new"),
        {"name": "Budget", "description": "Costs add up.", "max_score": 10, "position": 4},
    )
    assert added.status_code == 302
    budget = ReviewCriterion.objects.get(name="Budget")
    duplicate = client.post(
        reverse("projects:criterion_new"),
        {"name": "BUDGET", "description": "", "max_score": 10, "position": 4},
    )
    assert duplicate.status_code == 400
    assert "There is already a criterion called BUDGET." in text(duplicate)
    too_high = client.post(
        reverse("projects:criterion_edit", args=[budget.pk]),
        {"name": "Budget", "description": "", "max_score": 101, "position": 4},
    )
    assert too_high.status_code == 400
    confirm = client.get(reverse("projects:criterion_deactivate", args=[budget.pk]))
    assert "Stop scoring Budget?" in text(confirm)
    client.post(reverse("projects:criterion_deactivate", args=[budget.pk]))
    budget.refresh_from_db()
    assert not budget.is_active
    assert "Not in use" in text(client.get(reverse("projects:criteria")))
    client.post(reverse("projects:criterion_reactivate", args=[budget.pk]))
    budget.refresh_from_db()
    assert budget.is_active


def test_the_criteria_page_explains_itself_when_empty(admin, client_of):
    response = client_of(admin).get(reverse("projects:criteria"))
    assert "No criteria yet" in text(response)


def test_the_panels_pages_add_and_edit(world, client_of):
    client = client_of(world.admin)
    assert "Rami Reviewer" in text(client.get(reverse("projects:panels")))
    form = client.get(reverse("projects:panel_new"))
    assert world.learner.full_name not in text(form)
    empty = client.post(reverse("projects:panel_new"), {"programme": ""})
    assert empty.status_code == 400
    assert "at least one reviewer or a role" in text(empty)
    added = client.post(
        reverse("projects:panel_new"), {"programme": "", "reviewers": [world.reviewers[1].pk]}
    )
    assert added.status_code == 302
    panel = ReviewPanel.objects.get(programme__isnull=True)
    student = client.post(
        reverse("projects:panel_edit", args=[panel.pk]), {"reviewers": [world.learner.pk]}
    )
    assert student.status_code == 400
    trainers = Role.objects.get(key=SystemRole.TRAINER)
    saved = client.post(reverse("projects:panel_edit", args=[panel.pk]), {"role": trainers.pk})
    assert saved.status_code == 302
    panel.refresh_from_db()
    assert panel.role == trainers
    assert not panel.reviewers.exists()


def test_the_panels_page_explains_itself_when_empty(admin, client_of):
    assert "No review panels yet" in text(client_of(admin).get(reverse("projects:panels")))


def test_non_managers_get_404_on_the_setup_pages(world, client_of):
    criterion = world.criteria[0]
    panel = ReviewPanel.objects.get(programme=world.programme)
    urls = [
        reverse("projects:criteria"),
        reverse("projects:criterion_new"),
        reverse("projects:criterion_edit", args=[criterion.pk]),
        reverse("projects:criterion_deactivate", args=[criterion.pk]),
        reverse("projects:panels"),
        reverse("projects:panel_new"),
        reverse("projects:panel_edit", args=[panel.pk]),
    ]
    for person in (world.reviewers[0], world.learner):
        client = client_of(person)
        for url in urls:
            assert client.get(url).status_code == 404, (person, url)
    assert (
        client_of(world.learner)
        .post(reverse("projects:criterion_deactivate", args=[criterion.pk]))
        .status_code
        == 404
    )
    criterion.refresh_from_db()
    assert criterion.is_active


# --- Races: a name or a panel taken between the check and the save -----------------------------


def test_a_criterion_name_taken_meanwhile_is_the_names_error(world, monkeypatch):
    # Skip the name check as if the other criterion had been saved just after it.
    monkeypatch.setattr("projects.services.review_setup._criterion_check", lambda criterion: None)
    with pytest.raises(ValidationError) as refused:
        criterion_create(
            actor=world.admin, name=world.criteria[0].name, description="", max_score=5, position=0
        )
    assert "already a criterion called" in str(refused.value.error_dict["name"])
    assert ReviewCriterion.objects.filter(name=world.criteria[0].name).count() == 1


def test_a_panel_added_meanwhile_is_the_programmes_error(world, monkeypatch):
    monkeypatch.setattr("projects.services.review_setup._panel_free_check", lambda programme: None)
    with pytest.raises(ValidationError) as refused:
        panel_create(
            actor=world.admin, programme=world.programme, role=None, reviewers=[world.reviewers[0]]
        )
    assert "There is a panel for" in str(refused.value.error_dict["programme"])
    assert ReviewPanel.objects.filter(programme=world.programme).count() == 1


def test_a_criterion_deactivated_or_reactivated_by_someone_first_is_a_message(world, client_of):
    criterion = world.criteria[2]
    client = client_of(world.admin)
    criterion_active_set(actor=world.admin, criterion=criterion, active=False)
    response = client.post(
        reverse("projects:criterion_deactivate", args=[criterion.pk]), follow=True
    )
    assert response.status_code == 200
    assert "is already out of use" in text(response)
    criterion_active_set(actor=world.admin, criterion=criterion, active=True)
    response = client.post(
        reverse("projects:criterion_reactivate", args=[criterion.pk]), follow=True
    )
    assert response.status_code == 200
    assert "is in use" in text(response)
    assert AuditEvent.objects.filter(action="project.criterion_deactivate").count() == 1
