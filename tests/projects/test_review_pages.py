"""The review pages: the Review tab (blind to a reviewer until they have scored), scoring,
sending to the panel, deciding, the reviewer's queue; who reaches them (the audited 404 for
anyone else, another institution's people included)."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import SystemRole
from audit.models import AuditEvent
from projects.models import (
    InnovationProject,
    ProjectStatus,
    ReviewAssignment,
    ReviewPanel,
)
from projects.services.proposals import proposal_submit
from projects.services.review import project_decide, review_send, review_submit
from tests.factories import UserFactory
from tests.projects.support import ProjectWorld, project_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin) -> ProjectWorld:
    return project_world(admin)


def text(response) -> str:
    return response.content.decode()


def in_review(world: ProjectWorld) -> InnovationProject:
    project = world.project(status=ProjectStatus.SUBMITTED)
    review_send(actor=world.admin, project=project)
    project.refresh_from_db()
    return project


def score_form(world: ProjectWorld, score: int, comment: str) -> dict[str, object]:
    data: dict[str, object] = {"comments": f"Overall {comment}", "confirm": "on"}
    for criterion in world.criteria:
        data[f"score_{criterion.pk}"] = score
        data[f"comment_{criterion.pk}"] = f"{comment} on {criterion.name}"
    return data


def scored_by(world, project, reviewer, score: int, comment: str) -> None:
    review_submit(
        actor=reviewer,
        assignment=ReviewAssignment.objects.get(project=project, reviewer=reviewer),
        scores={c.pk: (score, f"{comment} on {c.name}") for c in world.criteria},
        comments=f"Overall {comment}",
    )


# --- The Review tab and blindness -------------------------------------------------------------


def test_a_reviewer_sees_only_their_form_until_they_have_scored(world, client_of):
    project = in_review(world)
    first, second = world.reviewers
    scored_by(world, project, first, 4, "Rami thinks")
    url = reverse("projects:review", args=[project.pk])
    blind = text(client_of(second).get(url))
    assert "Rami thinks" not in blind
    assert "Overall Rami thinks" not in blind
    assert "total 12" not in blind
    assert "1 of 2 reviewers have scored" in blind
    assert "Score this proposal" in blind
    assert 'data-testid="means"' not in blind
    # The one who scored sees the submitted review and the means.
    seen = text(client_of(first).get(url))
    assert "Rami thinks on Feasibility" in seen
    assert 'data-testid="means"' in seen
    assert "Score this proposal" not in seen
    # Once the second has scored through the page, they see both.
    response = client_of(second).post(
        reverse("projects:review_score", args=[project.pk]), score_form(world, 2, "Sipho says")
    )
    assert response.status_code == 302
    both = text(client_of(second).get(url))
    assert "Rami thinks on Feasibility" in both
    assert "Sipho says on Impact" in both
    assert "2 of 2 reviewers have scored" in both


def test_a_manager_who_is_a_pending_reviewer_is_blind_on_the_page(world, client_of):
    ReviewPanel.objects.get(programme=world.programme).reviewers.add(world.admin)
    project = in_review(world)
    scored_by(world, project, world.reviewers[0], 4, "Rami thinks")
    client = client_of(world.admin)
    page = text(client.get(reverse("projects:review", args=[project.pk])))
    assert "Rami thinks" not in page
    assert "Score this proposal" in page
    assert "Decide" in page
    decide = text(client.get(reverse("projects:decide", args=[project.pk])))
    assert "submit your own scores to see theirs" in decide
    assert "total 12" not in decide


def test_a_manager_sees_every_submitted_review(world, client_of):
    project = in_review(world)
    scored_by(world, project, world.reviewers[0], 4, "Rami thinks")
    page = text(client_of(world.admin).get(reverse("projects:review", args=[project.pk])))
    assert "Rami thinks on Impact" in page
    assert "To score" in page
    assert "Send to the panel" not in page


def test_the_review_tab_is_for_managers_and_reviewers_only(world, client_of):
    project = in_review(world)
    url = reverse("projects:review", args=[project.pk])
    assert client_of(world.admin).get(url).status_code == 200
    assert client_of(world.reviewers[0]).get(url).status_code == 200
    # The leader reaches the project, but not its review.
    assert client_of(world.learner).get(url).status_code == 404
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="view:projects.review"
    ).exists()
    # Another learner does not reach the project at all.
    assert client_of(world.other_learner).get(url).status_code == 404
    outsider = UserFactory(roles=[SystemRole.TRAINER])
    for name in ("review", "review_score", "review_send", "decide"):
        assert (
            client_of(outsider).get(reverse(f"projects:{name}", args=[project.pk])).status_code
            == 404
        )


def test_another_institutions_project_is_404(world, client_for, other_institution, institution):
    connection.set_tenant(institution)
    project = in_review(world)
    connection.set_tenant(other_institution)
    elsewhere_admin = UserFactory(roles=[SystemRole.ADMIN])
    client = client_for(other_institution)
    client.force_login(elsewhere_admin, backend="accounts.backends.RoleBackend")
    for name in ("review", "review_score", "review_send", "decide"):
        assert client.get(reverse(f"projects:{name}", args=[project.pk])).status_code == 404
    connection.set_tenant(institution)


def test_a_draft_has_nothing_to_review(world, client_of):
    project = world.project()
    page = text(client_of(world.admin).get(reverse("projects:review", args=[project.pk])))
    assert "reviewed once it is submitted" in page


# --- Scoring ----------------------------------------------------------------------------------


def test_the_score_page_shows_the_proposal_beside_the_form(world, client_of):
    project = in_review(world)
    page = text(
        client_of(world.reviewers[0]).get(reverse("projects:review_score", args=[project.pk]))
    )
    assert "Commuters&#x27; phones run flat." in page
    assert "Problem and need" in page
    assert 'name="confirm"' in page


def test_scoring_needs_every_criterion_and_the_confirmation(world, client_of):
    project = in_review(world)
    client = client_of(world.reviewers[0])
    url = reverse("projects:review_score", args=[project.pk])
    data = score_form(world, 3, "Fine")
    del data["confirm"]
    del data[f"score_{world.criteria[1].pk}"]
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "Tick the box to confirm" in text(refused)
    assert not ReviewAssignment.objects.filter(submitted_at__isnull=False).exists()
    out_of_range = score_form(world, 3, "Fine")
    out_of_range[f"score_{world.criteria[0].pk}"] = 6
    assert client.post(url, out_of_range).status_code == 400


def test_scoring_twice_through_the_page_is_refused(world, client_of):
    project = in_review(world)
    client = client_of(world.reviewers[0])
    url = reverse("projects:review_score", args=[project.pk])
    assert client.post(url, score_form(world, 3, "Fine")).status_code == 302
    again = client.post(url, score_form(world, 5, "Changed"))
    assert again.status_code == 400
    assert "they are final" in text(again)
    # Opening the form again leads back to the review.
    assert client.get(url).status_code == 302


# --- Sending and deciding ---------------------------------------------------------------------


def test_sending_to_the_panel_through_the_page(world, client_of):
    project = world.project(status=ProjectStatus.SUBMITTED)
    client = client_of(world.admin)
    tab = text(client.get(reverse("projects:review", args=[project.pk])))
    assert "Send to the panel" in tab
    url = reverse("projects:review_send", args=[project.pk])
    confirm = text(client.get(url))
    assert "Rami Reviewer" in confirm
    assert "Sipho Scorer" in confirm
    assert client.post(url).status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.IN_REVIEW


def test_sending_without_a_panel_points_to_the_set_up(world, client_of):
    ReviewPanel.objects.all().delete()
    project = world.project(status=ProjectStatus.SUBMITTED)
    client = client_of(world.admin)
    tab = text(client.get(reverse("projects:review", args=[project.pk])))
    assert "No review panel covers this programme" in tab
    assert reverse("projects:panels") in tab
    refused = client.post(reverse("projects:review_send", args=[project.pk]))
    assert refused.status_code == 400
    assert "No review panel covers this programme" in text(refused)


def test_a_reviewer_may_not_send_or_decide(world, client_of):
    project = in_review(world)
    client = client_of(world.reviewers[0])
    assert client.post(reverse("projects:review_send", args=[project.pk])).status_code == 404
    assert (
        client.post(
            reverse("projects:decide", args=[project.pk]), {"decision": "approve"}
        ).status_code
        == 404
    )


def test_rejecting_through_the_page_needs_a_reason(world, client_of):
    project = in_review(world)
    for reviewer in world.reviewers:
        scored_by(world, project, reviewer, 3, "Fair")
    client = client_of(world.admin)
    url = reverse("projects:decide", args=[project.pk])
    summary = text(client.get(url))
    assert "2 of 2 reviewers have scored" in summary
    assert "without_missing" not in summary
    refused = client.post(url, {"decision": "reject", "reason": ""})
    assert refused.status_code == 400
    assert "Give the reason" in text(refused)
    assert client.post(url, {"decision": "reject", "reason": "Too costly."}).status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.REJECTED
    tab = text(client.get(reverse("projects:review", args=[project.pk])))
    assert "Rejected by" in tab
    assert "Too costly." in tab


def test_deciding_with_scores_missing_asks_to_confirm(world, client_of):
    project = in_review(world)
    scored_by(world, project, world.reviewers[0], 3, "Fair")
    client = client_of(world.admin)
    url = reverse("projects:decide", args=[project.pk])
    assert "decide without their score" in text(client.get(url))
    refused = client.post(url, {"decision": "approve", "reason": ""})
    assert refused.status_code == 400
    assert "tick the box to decide without their scores" in text(refused)
    assert (
        client.post(url, {"decision": "approve", "reason": "", "without_missing": "on"}).status_code
        == 302
    )
    tab = text(client.get(reverse("projects:review", args=[project.pk])))
    assert "Did not score" in tab


def test_a_submitted_proposal_offers_only_sending_back(world, client_of):
    project = world.project(status=ProjectStatus.SUBMITTED)
    client = client_of(world.admin)
    url = reverse("projects:decide", args=[project.pk])
    page = text(client.get(url))
    assert "Send back for changes" in page
    assert 'value="approve"' not in page
    assert client.post(url, {"decision": "approve", "reason": "x"}).status_code == 400
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED


# --- The reviewer's queue ---------------------------------------------------------------------


def test_my_reviews_lists_what_to_score_first(world, client_of):
    done = in_review(world)
    scored_by(world, done, world.reviewers[0], 3, "Fair")
    waiting = world.project(status=ProjectStatus.SUBMITTED, title="Water tanks for schools")
    review_send(actor=world.admin, project=waiting)
    page = text(client_of(world.reviewers[0]).get(reverse("projects:my_reviews")))
    assert page.index("Water tanks for schools") < page.index("Solar kiosks for taxi ranks")
    assert "To score" in page
    assert "Scored" in page


def test_my_reviews_is_empty_for_someone_never_asked(world, client_of):
    page = text(client_of(world.admin).get(reverse("projects:my_reviews")))
    assert "No proposals to review" in page


def test_my_reviews_query_count_does_not_grow(world, client_of, django_assert_max_num_queries):
    client = client_of(world.reviewers[0])
    for index in range(3):
        project = world.project(status=ProjectStatus.SUBMITTED, title=f"Project {index}")
        review_send(actor=world.admin, project=project)
    client.get(reverse("projects:my_reviews"))
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("projects:my_reviews"))
    for index in range(10):
        project = world.project(status=ProjectStatus.SUBMITTED, title=f"More {index}")
        review_send(actor=world.admin, project=project)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("projects:my_reviews"))


def test_a_reviewer_of_an_earlier_round_sees_the_review_tab(world, client_of):
    project = in_review(world)
    reviewer = world.reviewers[0]
    review_submit(
        actor=reviewer,
        assignment=ReviewAssignment.objects.get(project=project, reviewer=reviewer),
        scores={c.pk: (3, "") for c in world.criteria},
        comments="",
    )
    # A later round the reviewer is not asked to score.
    InnovationProject.objects.filter(pk=project.pk).update(round=2, status=ProjectStatus.SUBMITTED)
    client = client_of(reviewer)
    review_url = reverse("projects:review", args=[project.pk])
    assert client.get(review_url).status_code == 200
    overview = client.get(reverse("projects:project", args=[project.pk]))
    assert overview.status_code == 200
    assert review_url in text(overview)


def test_the_review_tab_shows_what_each_round_submitted(world, client_of):
    project = in_review(world)
    response = client_of(world.admin).get(reverse("projects:review", args=[project.pk]))
    assert 'data-testid="submitted-proposal"' not in text(response)
    # The project was written in round 1 directly: only round 2 keeps a submission.
    project_decide(actor=world.admin, project=project, decision="send_back", reason="Costs.")
    InnovationProject.objects.filter(pk=project.pk).update(
        description="Lockers, not kiosks.",
        start_date=datetime.date(2027, 2, 1),
        end_date=datetime.date(2027, 6, 30),
    )
    proposal_submit(actor=world.learner, project=project)
    response = client_of(world.admin).get(reverse("projects:review", args=[project.pk]))
    assert text(response).count('data-testid="submitted-proposal"') == 1
    assert "Lockers, not kiosks." in text(response)


def test_the_way_back_is_where_each_person_came_from(world, client_of):
    project = in_review(world)
    review = reverse("projects:review", args=[project.pk])
    overview = reverse("projects:project", args=[project.pk])
    crumbs = {
        "reviewer": text(client_of(world.reviewers[0]).get(review)),
        "learner": text(client_of(world.learner).get(overview)),
        "admin": text(client_of(world.admin).get(review)),
    }
    assert f'href="{reverse("projects:my_reviews")}">My reviews</a></li>' in crumbs["reviewer"]
    assert f'href="{reverse("projects:my_projects")}">My projects</a></li>' in crumbs["learner"]
    assert f'href="{reverse("projects:list")}">Projects</a></li>' in crumbs["admin"]
