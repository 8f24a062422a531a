"""Reviewing proposals: sending a submission to its panel, reviewers scoring it blind, the
decision with the panel's scores, and the e-mails; each refusal with its audit event."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import SystemRole, User
from accounts.selectors import users_with_permission
from audit.models import AuditEvent
from audit.services import CHANGED
from notifications.models import OutboundEmail
from notifications.services import email_render
from projects.models import (
    InnovationProject,
    MemberRole,
    ProjectMember,
    ProjectStatus,
    ProjectStatusChange,
    ReviewAssignment,
    ReviewCriterion,
    ReviewPanel,
)
from projects.selectors.review import assignment_criteria, review_rounds
from projects.services.proposals import proposal_submit
from projects.services.review import project_decide, review_send, review_submit
from tests.factories import ProgrammeFactory, UserFactory
from tests.projects.support import ProjectWorld, project_world, role_give

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin) -> ProjectWorld:
    return project_world(admin)


def full_marks(world: ProjectWorld, score: int = 3) -> dict[int, tuple[int, str]]:
    return {criterion.pk: (score, f"Comment on {criterion.name}") for criterion in world.criteria}


def in_review(world: ProjectWorld) -> InnovationProject:
    project = world.project(status=ProjectStatus.SUBMITTED)
    review_send(actor=world.admin, project=project)
    project.refresh_from_db()
    return project


def assignment_of(project: InnovationProject, reviewer) -> ReviewAssignment:
    return ReviewAssignment.objects.get(project=project, round=project.round, reviewer=reviewer)


def refused_event(action: str) -> bool:
    return AuditEvent.objects.filter(action="permission.denied", entity_id=action).exists()


# --- Sending to the panel ---------------------------------------------------------------------


def test_sending_asks_each_panel_reviewer_and_emails_them(world):
    project = world.project(status=ProjectStatus.SUBMITTED)
    assignments = review_send(actor=world.admin, project=project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.IN_REVIEW
    assert {a.reviewer for a in assignments} == set(world.reviewers)
    assert {a.round for a in assignments} == {1}
    change = ProjectStatusChange.objects.get(project=project)
    assert (change.from_status, change.to_status) == ("submitted", "in_review")
    event = AuditEvent.objects.get(action="project.review_send")
    assert event.new_values["status"] == "in_review"
    assigned = AuditEvent.objects.get(action="project.review_assign")
    assert sorted(assigned.new_values["reviewers"]) == sorted(r.pk for r in world.reviewers)
    mails = OutboundEmail.objects.filter(template="project_review_request")
    assert sorted(mails.values_list("recipient", flat=True)) == sorted(
        r.email for r in world.reviewers
    )
    assert f"/projects/{project.pk}/review/score/" in mails.first().context["url"]


def test_the_panel_for_every_programme_reviews_a_programme_without_its_own(world):
    other_programme = ProgrammeFactory(name="Electrical NQF 3")
    general = UserFactory(roles=[SystemRole.TRAINER], full_name="Gina General")
    panel = ReviewPanel.objects.create(programme=None)
    panel.reviewers.set([general])
    project = world.project(status=ProjectStatus.SUBMITTED, programme=other_programme)
    assignments = review_send(actor=world.admin, project=project)
    assert [a.reviewer for a in assignments] == [general]


def test_the_holders_of_the_panels_role_review(world):
    ReviewPanel.objects.filter(programme=world.programme).update(
        role=world.admin.roles.get(key=SystemRole.ADMIN)
    )
    project = world.project(status=ProjectStatus.SUBMITTED)
    reviewers = {a.reviewer for a in review_send(actor=world.admin, project=project)}
    admins = set(User.objects.filter(roles__key=SystemRole.ADMIN))
    assert world.admin in admins
    assert reviewers == {*world.reviewers, *admins}


def test_current_members_and_learners_are_never_asked(world):
    project = world.project(status=ProjectStatus.SUBMITTED)
    ProjectMember.objects.create(
        project=project, user=world.reviewers[0], role=MemberRole.MENTOR, joined_date="2027-01-20"
    )
    panel = ReviewPanel.objects.get(programme=world.programme)
    panel.reviewers.add(world.other_learner)
    assignments = review_send(actor=world.admin, project=project)
    assert [a.reviewer for a in assignments] == [world.reviewers[1]]


def test_a_member_who_left_may_review(world):
    project = world.project(status=ProjectStatus.SUBMITTED)
    ProjectMember.objects.create(
        project=project,
        user=world.reviewers[0],
        role=MemberRole.ADVISOR,
        joined_date="2027-01-20",
        left_date="2027-01-25",
    )
    reviewers = {a.reviewer for a in review_send(actor=world.admin, project=project)}
    assert world.reviewers[0] in reviewers


def test_sending_without_a_panel_is_refused_saying_what_to_set_up(world):
    ReviewPanel.objects.all().delete()
    project = world.project(status=ProjectStatus.SUBMITTED)
    with pytest.raises(ValidationError, match="No review panel covers this programme"):
        review_send(actor=world.admin, project=project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED
    assert not ReviewAssignment.objects.exists()
    assert not AuditEvent.objects.filter(action="project.review_send").exists()


def test_sending_without_active_criteria_is_refused(world):
    ReviewCriterion.objects.update(is_active=False)
    project = world.project(status=ProjectStatus.SUBMITTED)
    with pytest.raises(ValidationError, match="no active review criteria"):
        review_send(actor=world.admin, project=project)
    assert not ReviewAssignment.objects.exists()


def test_sending_when_every_reviewer_is_a_member_is_refused(world):
    project = world.project(status=ProjectStatus.SUBMITTED)
    for reviewer in world.reviewers:
        ProjectMember.objects.create(
            project=project, user=reviewer, role=MemberRole.MENTOR, joined_date="2027-01-20"
        )
    with pytest.raises(ValidationError, match="no one who may review"):
        review_send(actor=world.admin, project=project)


def test_only_a_submitted_proposal_is_sent(world):
    project = world.project(status=ProjectStatus.DRAFT)
    with pytest.raises(ValidationError, match="only a submitted proposal"):
        review_send(actor=world.admin, project=project)


def test_a_non_manager_may_not_send(world):
    project = world.project(status=ProjectStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        review_send(actor=world.reviewers[0], project=project)
    assert refused_event("project.review_send")
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED


# --- Scoring ----------------------------------------------------------------------------------


def test_a_reviewer_scores_every_criterion_and_it_is_final(world):
    project = in_review(world)
    assignment = assignment_of(project, world.reviewers[0])
    review_submit(
        actor=world.reviewers[0],
        assignment=assignment,
        scores=full_marks(world, 4),
        comments="  Promising.  ",
    )
    assignment.refresh_from_db()
    assert assignment.submitted_at is not None
    assert assignment.comments == "Promising."
    assert sorted(assignment.scores.values_list("score", flat=True)) == [4, 4, 4]
    event = AuditEvent.objects.get(action="project.review_submit")
    assert event.new_values["scores"] == {
        "Problem and need": 4,
        "Feasibility": 4,
        "Impact": 4,
    }
    assert event.new_values["round"] == 1
    # Not the last: no one is told the panel is done.
    assert not OutboundEmail.objects.filter(template="project_review_done").exists()


def test_scoring_twice_is_refused(world):
    project = in_review(world)
    assignment = assignment_of(project, world.reviewers[0])
    review_submit(
        actor=world.reviewers[0], assignment=assignment, scores=full_marks(world), comments=""
    )
    with pytest.raises(ValidationError, match="final"):
        review_submit(
            actor=world.reviewers[0],
            assignment=assignment,
            scores=full_marks(world, 5),
            comments="",
        )
    assert sorted(assignment.scores.values_list("score", flat=True)) == [3, 3, 3]
    assert AuditEvent.objects.filter(action="project.review_submit").count() == 1


@pytest.mark.parametrize("score", [-1, 6])
def test_a_score_out_of_range_is_refused(world, score):
    project = in_review(world)
    assignment = assignment_of(project, world.reviewers[0])
    scores = full_marks(world)
    feasibility = world.criteria[1]
    scores[feasibility.pk] = (score, "")
    with pytest.raises(ValidationError) as refused:
        review_submit(actor=world.reviewers[0], assignment=assignment, scores=scores, comments="")
    assert f"score_{feasibility.pk}" in refused.value.error_dict
    assert "from 0 to 5" in str(refused.value)
    assignment.refresh_from_db()
    assert assignment.submitted_at is None
    assert not assignment.scores.exists()


def test_the_maximum_itself_is_a_valid_score(world):
    project = in_review(world)
    assignment = assignment_of(project, world.reviewers[0])
    scores = {c.pk: (c.max_score, "") for c in world.criteria}
    review_submit(actor=world.reviewers[0], assignment=assignment, scores=scores, comments="")
    assert sorted(assignment.scores.values_list("score", flat=True)) == [5, 5, 10]


def test_a_missing_criterion_is_refused(world):
    project = in_review(world)
    assignment = assignment_of(project, world.reviewers[0])
    scores = full_marks(world)
    impact = world.criteria[2]
    del scores[impact.pk]
    with pytest.raises(ValidationError) as refused:
        review_submit(actor=world.reviewers[0], assignment=assignment, scores=scores, comments="")
    assert f"score_{impact.pk}" in refused.value.error_dict
    assert "Score Impact" in str(refused.value)


def test_a_criterion_inactive_when_sent_is_neither_asked_nor_accepted(world):
    impact = world.criteria[2]
    ReviewCriterion.objects.filter(pk=impact.pk).update(is_active=False)
    project = in_review(world)
    assignment = assignment_of(project, world.reviewers[0])
    with pytest.raises(ValidationError, match="this round does not use"):
        review_submit(
            actor=world.reviewers[0], assignment=assignment, scores=full_marks(world), comments=""
        )
    scores = full_marks(world)
    del scores[impact.pk]
    review_submit(actor=world.reviewers[0], assignment=assignment, scores=scores, comments="")
    assert assignment.scores.count() == 2


def test_the_criteria_of_a_round_are_fixed_when_the_panel_is_asked(world):
    project = in_review(world)
    impact = world.criteria[2]
    assignment = assignment_of(project, world.reviewers[0])
    assert set(assignment.criteria.all()) == set(world.criteria)
    # Criteria changed while the round is in review do not change the round.
    ReviewCriterion.objects.filter(pk=impact.pk).update(is_active=False)
    added = ReviewCriterion.objects.create(name="Cost", max_score=5)
    scores = full_marks(world)
    with pytest.raises(ValidationError) as refused:
        review_submit(
            actor=world.reviewers[0],
            assignment=assignment,
            scores={**scores, added.pk: (3, "")},
            comments="",
        )
    assert "this round does not use" in str(refused.value)
    review_submit(actor=world.reviewers[0], assignment=assignment, scores=scores, comments="")
    assert {s.criterion_id for s in assignment.scores.all()} == {c.pk for c in world.criteria}
    decided = project_decide(
        actor=world.admin, project=project, decision="approve", reason="", without_missing=True
    )
    recorded = ProjectStatusChange.objects.filter(project=decided).last()
    assert recorded is not None
    assert [row["name"] for row in recorded.panel_scores["criteria"]] == [
        c.name for c in sorted(world.criteria, key=lambda c: (c.position, c.name))
    ]
    send_event = AuditEvent.objects.filter(action="project.review_assign").last()
    assert send_event is not None
    assert set(send_event.new_values["criteria"]) == {c.name for c in world.criteria}


def test_an_assignment_made_before_criteria_were_fixed_uses_those_it_was_scored_on(world):
    project = in_review(world)
    assignment = assignment_of(project, world.reviewers[0])
    assignment.criteria.clear()
    impact = world.criteria[2]
    ReviewCriterion.objects.filter(pk=impact.pk).update(is_active=False)
    ordered = sorted(world.criteria, key=lambda c: (c.position, c.name))
    assert assignment_criteria(assignment) == [c for c in ordered if c.pk != impact.pk]
    scores = full_marks(world)
    del scores[impact.pk]
    review_submit(actor=world.reviewers[0], assignment=assignment, scores=scores, comments="")
    ReviewCriterion.objects.filter(pk=impact.pk).update(is_active=True)
    assert {c.pk for c in assignment_criteria(assignment)} == set(scores)


def test_a_reviewer_who_has_joined_the_project_may_not_submit(world):
    project = in_review(world)
    reviewer = world.reviewers[0]
    assignment = assignment_of(project, reviewer)
    ProjectMember.objects.create(
        project=project, user=reviewer, role=MemberRole.MENTOR, joined_date=datetime.date.today()
    )
    with pytest.raises(ValidationError, match="now a member of this project"):
        review_submit(actor=reviewer, assignment=assignment, scores=full_marks(world), comments="")
    assert not assignment.scores.exists()
    assignment.refresh_from_db()
    assert assignment.submitted_at is None


def test_only_the_assigned_reviewer_scores(world):
    project = in_review(world)
    assignment = assignment_of(project, world.reviewers[0])
    for intruder in (world.reviewers[1], world.admin, world.learner):
        with pytest.raises(PermissionDenied):
            review_submit(
                actor=intruder, assignment=assignment, scores=full_marks(world), comments=""
            )
    assert refused_event("project.review_submit")
    assert not assignment.scores.exists()


def test_scoring_a_proposal_no_longer_in_review_is_refused(world):
    project = in_review(world)
    assignment = assignment_of(project, world.reviewers[0])
    project_decide(actor=world.admin, project=project, decision="send_back", reason="Add costs.")
    with pytest.raises(ValidationError, match="no longer in review"):
        review_submit(
            actor=world.reviewers[0], assignment=assignment, scores=full_marks(world), comments=""
        )


def test_the_managers_are_told_once_when_the_last_reviewer_has_scored(world):
    project = in_review(world)
    for reviewer in world.reviewers:
        review_submit(
            actor=reviewer,
            assignment=assignment_of(project, reviewer),
            scores=full_marks(world),
            comments="",
        )
    done = OutboundEmail.objects.filter(template="project_review_done")
    managers = users_with_permission("projects.manage_projects")
    assert sorted(done.values_list("recipient", flat=True)) == sorted(m.email for m in managers)
    assert world.admin.email in {m.email for m in managers}
    assert not done.filter(recipient__in=[r.email for r in world.reviewers]).exists()
    assert f"/projects/{project.pk}/decide/" in done.first().context["url"]


# --- Blindness --------------------------------------------------------------------------------


def visible_totals(viewer, project) -> dict[str, int | None]:
    current = review_rounds(viewer=viewer, project=project)[0]
    if not current.scores_visible:
        return {}
    return {row.assignment.reviewer.full_name: row.total for row in current.reviewers}


def test_a_reviewer_sees_no_scores_until_they_submit_their_own(world):
    project = in_review(world)
    first, second = world.reviewers
    review_submit(
        actor=first,
        assignment=assignment_of(project, first),
        scores=full_marks(world, 2),
        comments="First's view",
    )
    blind = review_rounds(viewer=second, project=project)[0]
    assert not blind.scores_visible
    assert (blind.scored, blind.asked) == (1, 2)
    assert blind.means == []
    assert all(row.scores == [] and row.total is None for row in blind.reviewers)
    # The one who submitted sees their own and anyone else's submitted review.
    assert visible_totals(first, project) == {first.full_name: 6, second.full_name: None}
    review_submit(
        actor=second,
        assignment=assignment_of(project, second),
        scores=full_marks(world, 4),
        comments="",
    )
    assert visible_totals(second, project) == {first.full_name: 6, second.full_name: 12}
    means = {
        m.name: (m.mean, m.count) for m in review_rounds(viewer=second, project=project)[0].means
    }
    assert means == {"Problem and need": (3.0, 2), "Feasibility": (3.0, 2), "Impact": (3.0, 2)}


def test_a_manager_who_is_a_pending_reviewer_is_blind_too(world):
    ReviewPanel.objects.get(programme=world.programme).reviewers.add(world.admin)
    project = in_review(world)
    first = world.reviewers[0]
    review_submit(
        actor=first,
        assignment=assignment_of(project, first),
        scores=full_marks(world),
        comments="",
    )
    assert visible_totals(world.admin, project) == {}
    review_submit(
        actor=world.admin,
        assignment=assignment_of(project, world.admin),
        scores=full_marks(world, 1),
        comments="",
    )
    assert visible_totals(world.admin, project)[first.full_name] == 9


def test_a_manager_who_does_not_review_sees_every_submitted_review(world):
    project = in_review(world)
    first = world.reviewers[0]
    review_submit(
        actor=first,
        assignment=assignment_of(project, first),
        scores=full_marks(world),
        comments="",
    )
    assert visible_totals(world.admin, project) == {
        first.full_name: 9,
        world.reviewers[1].full_name: None,
    }


def test_a_pending_reviewer_sees_no_earlier_rounds_scores_either(world):
    project = in_review(world)
    first, second = world.reviewers
    for reviewer in world.reviewers:
        review_submit(
            actor=reviewer,
            assignment=assignment_of(project, reviewer),
            scores=full_marks(world),
            comments="",
        )
    project_decide(actor=world.admin, project=project, decision="send_back", reason="Costs.")
    # Resubmitted and sent again: round 2, with the same panel.
    InnovationProject.objects.filter(pk=project.pk).update(round=2, status=ProjectStatus.SUBMITTED)
    project.refresh_from_db()
    review_send(actor=world.admin, project=project)
    project.refresh_from_db()
    rounds = review_rounds(viewer=first, project=project)
    assert [r.number for r in rounds] == [2, 1]
    assert not any(r.scores_visible for r in rounds)
    assert rounds[1].decision is not None
    assert rounds[1].decision_label == "Sent back"
    # The manager sees the earlier round's scores and what the decision recorded.
    manager_rounds = review_rounds(viewer=world.admin, project=project)
    assert manager_rounds[1].scores_visible
    assert [m.count for m in manager_rounds[1].recorded_means] == [2, 2, 2]


def resubmitted(world: ProjectWorld, project: InnovationProject, **changes) -> InnovationProject:
    """`project`, sent back with `reason`, revised with `changes` and submitted again."""
    project_decide(actor=world.admin, project=project, decision="send_back", reason="Costs.")
    dates = {"start_date": datetime.date(2027, 2, 1), "end_date": datetime.date(2027, 6, 30)}
    InnovationProject.objects.filter(pk=project.pk).update(**{**dates, **changes})
    return proposal_submit(actor=world.learner, project=project)


def test_a_reviewer_of_an_earlier_round_sees_only_the_rounds_they_scored(world):
    project = in_review(world)
    first, second = world.reviewers
    for reviewer in world.reviewers:
        review_submit(
            actor=reviewer,
            assignment=assignment_of(project, reviewer),
            scores=full_marks(world),
            comments="",
        )
    project = resubmitted(world, project)
    # The second reviewer leaves the panel: round 2 asks only the first.
    ReviewPanel.objects.get(programme=world.programme).reviewers.remove(second)
    review_send(actor=world.admin, project=project)
    project.refresh_from_db()
    assert project.round == 2
    # Asked again, the first is blind to every round until they submit round 2.
    rounds = {r.number: r for r in review_rounds(viewer=first, project=project)}
    assert not rounds[1].scores_visible
    assert not rounds[2].scores_visible
    review_submit(
        actor=first, assignment=assignment_of(project, first), scores=full_marks(world), comments=""
    )
    rounds = {r.number: r for r in review_rounds(viewer=first, project=project)}
    assert rounds[1].scores_visible
    assert rounds[2].scores_visible
    # The second scored round 1 only: round 2's scores stay hidden from them.
    rounds = {r.number: r for r in review_rounds(viewer=second, project=project)}
    assert rounds[1].scores_visible
    assert not rounds[2].scores_visible
    assert all(row.scores == [] and row.total is None for row in rounds[2].reviewers)


def test_each_round_keeps_the_proposal_as_submitted(world):
    project = world.project(
        start_date=datetime.date(2027, 2, 1), end_date=datetime.date(2027, 6, 30)
    )
    original = project.description
    project = proposal_submit(actor=world.learner, project=project)
    review_send(actor=world.admin, project=project)
    project.refresh_from_db()
    project = resubmitted(world, project, description="Solar lockers instead of kiosks.")
    first = ProjectStatusChange.objects.get(
        project=project, round=1, to_status=ProjectStatus.SUBMITTED
    )
    second = ProjectStatusChange.objects.get(
        project=project, round=2, to_status=ProjectStatus.SUBMITTED
    )
    assert first.proposal["description"] == original
    assert second.proposal["description"] == "Solar lockers instead of kiosks."
    assert second.proposal["title"] == project.title
    assert second.proposal["programme"] == world.programme.name
    assert second.proposal["cohort"] == world.cohort.name
    assert set(second.proposal) == {
        "title",
        "kind",
        "description",
        "problem_statement",
        "objectives",
        "expected_outcomes",
        "start_date",
        "end_date",
        "programme",
        "cohort",
    }
    rounds = {r.number: r for r in review_rounds(viewer=world.admin, project=project)}
    assert rounds[1].proposal["description"] == original
    assert rounds[2].proposal["description"] == "Solar lockers instead of kiosks."


# --- Deciding ---------------------------------------------------------------------------------


def scored(world: ProjectWorld, *, everyone: bool = True) -> InnovationProject:
    project = in_review(world)
    for reviewer in world.reviewers if everyone else world.reviewers[:1]:
        review_submit(
            actor=reviewer,
            assignment=assignment_of(project, reviewer),
            scores=full_marks(world, 4 if reviewer == world.reviewers[0] else 2),
            comments="",
        )
    return project


def test_approving_records_the_panels_scores_and_tells_the_team(world):
    project = scored(world)
    ProjectMember.objects.create(
        project=project, user=world.other_learner, role=MemberRole.MEMBER, joined_date="2027-01-20"
    )
    gone = UserFactory(roles=[SystemRole.STUDENT])
    ProjectMember.objects.create(
        project=project,
        user=gone,
        role=MemberRole.MEMBER,
        joined_date="2027-01-20",
        left_date="2027-01-21",
    )
    project_decide(actor=world.admin, project=project, decision="approve", reason="")
    project.refresh_from_db()
    assert project.status == ProjectStatus.APPROVED
    assert project.decided_at is not None
    change = ProjectStatusChange.objects.get(project=project, to_status="approved")
    first, second = world.reviewers
    assert change.panel_scores == {
        "round": 1,
        "decision": "approve",
        "criteria": [
            {
                "id": world.criteria[0].pk,
                "name": "Problem and need",
                "max_score": 5,
                "mean": 3.0,
                "count": 2,
            },
            {
                "id": world.criteria[1].pk,
                "name": "Feasibility",
                "max_score": 5,
                "mean": 3.0,
                "count": 2,
            },
            {
                "id": world.criteria[2].pk,
                "name": "Impact",
                "max_score": 10,
                "mean": 3.0,
                "count": 2,
            },
        ],
        "reviewers": [
            {"id": first.pk, "submitted": True, "total": 12},
            {"id": second.pk, "submitted": True, "total": 6},
        ],
    }
    event = AuditEvent.objects.get(action="project.approve")
    assert event.new_values["panel_scores"]["decision"] == "approve"
    mails = OutboundEmail.objects.filter(template="project_decision")
    assert sorted(mails.values_list("recipient", flat=True)) == sorted(
        [world.learner.email, world.other_learner.email]
    )
    assert mails.first().context["decision"] == "approve"


def test_rejecting_needs_a_reason_which_the_team_is_told(world):
    project = scored(world)
    with pytest.raises(ValidationError) as refused:
        project_decide(actor=world.admin, project=project, decision="reject", reason="  ")
    assert "reason" in refused.value.error_dict
    project.refresh_from_db()
    assert project.status == ProjectStatus.IN_REVIEW
    assert not AuditEvent.objects.filter(action="project.reject").exists()
    project_decide(
        actor=world.admin, project=project, decision="reject", reason="Not feasible yet."
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.REJECTED
    change = ProjectStatusChange.objects.get(project=project, to_status="rejected")
    assert change.reason == "Not feasible yet."
    # The trail records that a reason was given, never its words.
    assert AuditEvent.objects.get(action="project.reject").new_values["reason"] == CHANGED
    mail = OutboundEmail.objects.get(template="project_decision")
    assert mail.context["reason"] == "Not feasible yet."


def test_sending_back_needs_a_reason(world):
    project = world.project(status=ProjectStatus.SUBMITTED)
    with pytest.raises(ValidationError) as refused:
        project_decide(actor=world.admin, project=project, decision="send_back", reason="")
    assert "reason" in refused.value.error_dict


def test_a_submitted_proposal_may_be_sent_back_before_review(world):
    project = world.project(status=ProjectStatus.SUBMITTED)
    project_decide(actor=world.admin, project=project, decision="send_back", reason="Add a budget.")
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT
    change = ProjectStatusChange.objects.get(project=project)
    assert change.panel_scores == {
        "round": 1,
        "decision": "send_back",
        "criteria": [],
        "reviewers": [],
    }
    assert AuditEvent.objects.filter(action="project.send_back").exists()


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_approving_or_rejecting_a_proposal_not_reviewed_is_refused(world, decision):
    project = world.project(status=ProjectStatus.SUBMITTED)
    with pytest.raises(ValidationError, match="Send it to the panel first"):
        project_decide(actor=world.admin, project=project, decision=decision, reason="Because.")
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED


def test_deciding_without_any_submitted_review_is_refused(world):
    project = in_review(world)
    with pytest.raises(ValidationError, match="No reviewer has scored"):
        project_decide(
            actor=world.admin, project=project, decision="approve", reason="", without_missing=True
        )


def test_deciding_with_reviewers_still_to_score_needs_confirming(world):
    project = scored(world, everyone=False)
    with pytest.raises(ValidationError) as refused:
        project_decide(actor=world.admin, project=project, decision="approve", reason="")
    assert "without_missing" in refused.value.error_dict
    assert "1 reviewer has not scored" in str(refused.value)
    project_decide(
        actor=world.admin, project=project, decision="approve", reason="", without_missing=True
    )
    change = ProjectStatusChange.objects.get(project=project, to_status="approved")
    assert [r["submitted"] for r in change.panel_scores["reviewers"]] == [True, False]
    # The unsubmitted assignment stays, shown as not scored.
    project.refresh_from_db()
    rows = review_rounds(viewer=world.admin, project=project)[0].reviewers
    assert [row.state for row in rows] == ["scored", "did_not_score"]


def test_a_non_manager_may_not_decide(world):
    project = scored(world)
    for person in (world.reviewers[0], world.learner):
        with pytest.raises(PermissionDenied):
            project_decide(actor=person, project=project, decision="approve", reason="")
    assert refused_event("project.approve")


def test_a_trainer_given_the_admin_role_may_decide(world):
    project = scored(world)
    manager = UserFactory(roles=[SystemRole.TRAINER])
    role_give(manager, SystemRole.ADMIN)
    project_decide(actor=manager, project=project, decision="approve", reason="")
    project.refresh_from_db()
    assert project.status == ProjectStatus.APPROVED


def test_the_review_emails_render_with_their_links(world):
    project = scored(world)
    project_decide(actor=world.admin, project=project, decision="reject", reason="Costs & risks.")
    request = email_render(OutboundEmail.objects.filter(template="project_review_request").first())
    assert request.subject == "Please review Solar kiosks for taxi ranks"
    assert f"/projects/{project.pk}/review/score/" in request.body
    done = email_render(OutboundEmail.objects.filter(template="project_review_done").first())
    assert done.subject == "The panel has scored Solar kiosks for taxi ranks"
    assert f"/projects/{project.pk}/decide/" in done.body
    decision = email_render(OutboundEmail.objects.get(template="project_decision"))
    assert decision.subject == "Solar kiosks for taxi ranks: rejected"
    assert "Costs & risks." in decision.body
    assert "is rejected" in decision.body
