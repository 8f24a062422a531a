"""Proposing a project: a draft, saved as often as the proposer likes (the form's autosave), then
submitted for review; a rejected proposal revised into a new draft; a draft never submitted
deleted.

- Learners and staff who may propose (projects.access.may_propose) start a draft with only a
  title; they lead it. A learner places it in one of the cohorts they are enrolled in (their
  latest unless they choose), whose programme it takes; staff place it in any programme and
  cohort, the cohort one of the programme's.
- The draft is edited by its leader or a manager (projects.access.may_edit_proposal), without
  being complete; each save that changes something is one audit event naming the fields
  changed (typed text: that it changed, never its words).
- Submitting needs every field a reviewer reads, and the institution's review criteria; the
  leader and the project managers are e-mailed.

Each service checks who acts before its transaction, locks the project and writes its event."""

import datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from academics.models import Programme
from accounts.models import User
from accounts.permissions import permission_check
from accounts.selectors import users_with_permission
from audit.services import audit_record, kept_out
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment, EnrollmentState
from notifications.services import email_enqueue
from projects.access import (
    MANAGE_PROJECTS,
    PROPOSE_PROJECTS,
    may_edit_proposal,
    may_lead,
    may_propose,
)
from projects.models import (
    InnovationProject,
    MemberRole,
    ProjectKind,
    ProjectMember,
    ProjectStatus,
    ReviewCriterion,
)
from projects.selectors.team import current_leader
from projects.services.history import project_locked, project_move
from tenants.sites import current_institution_url

# What a proposal holds, as the form edits it.
PROPOSAL_FIELDS = (
    "title",
    "kind",
    "description",
    "problem_statement",
    "objectives",
    "expected_outcomes",
    "programme",
    "cohort",
    "start_date",
    "end_date",
)
# Typed by the proposer: events record that it changed, never its words.
TYPED_FIELDS = frozenset(
    {"title", "description", "problem_statement", "objectives", "expected_outcomes"}
)
# What a reviewer reads: a submission needs every one.
NEEDED_FOR_REVIEW = (
    "title",
    "description",
    "problem_statement",
    "objectives",
    "expected_outcomes",
    "start_date",
    "end_date",
    "programme",
)
FIELD_LABELS = {
    "title": "title",
    "kind": "kind of project",
    "description": "description",
    "problem_statement": "problem statement",
    "objectives": "objectives",
    "expected_outcomes": "expected outcomes",
    "programme": "programme",
    "cohort": "cohort",
    "start_date": "start date",
    "end_date": "end date",
}


def is_restricted_to_own_cohorts(user: User) -> bool:
    """A learner (not staff who may propose or manage projects) places a proposal only in the
    cohorts they are enrolled in."""
    return not user.may(PROPOSE_PROJECTS, MANAGE_PROJECTS)


def learner_cohorts(user: User) -> QuerySet[Cohort]:
    """The cohorts `user` is enrolled in (through their learner record; not withdrawn), latest
    first."""
    enrolled = CohortEnrollment.objects.filter(learner__user=user).exclude(
        state=EnrollmentState.WITHDRAWN
    )
    cohorts: QuerySet[Cohort] = (
        Cohort.objects.filter(pk__in=enrolled.values("cohort_id"))
        .select_related("programme")
        .order_by("-start_date", "-pk")
    )
    return cohorts


def proposal_missing(project: InnovationProject) -> list[str]:
    """The fields a reviewer needs that `project` has not filled, in the form's order."""
    return [name for name in NEEDED_FOR_REVIEW if getattr(project, name) in (None, "")]


def _labels(names: list[str]) -> str:
    labels = [FIELD_LABELS[name] for name in names]
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _placement(
    actor: User, programme: Programme | None, cohort: Cohort | None, *, default_cohort: bool
) -> tuple[Programme | None, Cohort | None]:
    """The programme and cohort a proposal of `actor` goes in: a learner's one of their own
    cohorts (their latest when `default_cohort` and none is chosen) and its programme; staff's
    any cohort of the programme chosen. A cohort of no programme keeps the programme chosen, so
    that its learners can still name the panel that reviews them."""
    if is_restricted_to_own_cohorts(actor):
        own = list(learner_cohorts(actor))
        if cohort is None and default_cohort and own:
            cohort = own[0]
        if cohort is not None and cohort not in own:
            raise ValidationError({"cohort": ["Choose one of the cohorts you are enrolled in."]})
        own_programmes = {item.programme_id for item in own}
        if cohort is None and own and programme is not None and programme.pk not in own_programmes:
            raise ValidationError({"programme": ["Choose the programme of one of your cohorts."]})
    if cohort is not None and cohort.programme_id is not None:
        if programme is None or is_restricted_to_own_cohorts(actor):
            programme = cohort.programme
        elif cohort.programme_id != programme.pk:
            raise ValidationError(
                {
                    "cohort": [
                        f"{cohort.name} is not a cohort of {programme.name}: choose one of its "
                        "cohorts, or another programme."
                    ]
                }
            )
    return programme, cohort


def _dates_check(start_date: datetime.date | None, end_date: datetime.date | None) -> None:
    if start_date is not None and end_date is not None and end_date < start_date:
        raise ValidationError({"end_date": ["The end date comes before the start date."]})


def _title_clean(title: str) -> str:
    title = title.strip()
    if not title:
        raise ValidationError({"title": ["Give the project a title."]})
    return title


def _event_value(name: str, value: Any) -> Any:
    """What an event records of a field's value."""
    if name in TYPED_FIELDS:
        return kept_out(value)
    if isinstance(value, Programme | Cohort):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def proposal_create(
    *,
    actor: User,
    title: str,
    kind: str = ProjectKind.OTHER,
    description: str = "",
    problem_statement: str = "",
    objectives: str = "",
    expected_outcomes: str = "",
    programme: Programme | None = None,
    cohort: Cohort | None = None,
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
) -> InnovationProject:
    """Start a draft led by `actor` (only a title is needed)."""
    permission_check(actor=actor, action="project.proposal_create", allowed=may_propose(actor))
    title = _title_clean(title)
    if kind not in ProjectKind.values:
        raise ValidationError({"kind": ["Choose a kind of project."]})
    _dates_check(start_date, end_date)
    with transaction.atomic(durable=True):
        programme, cohort = _placement(actor, programme, cohort, default_cohort=True)
        project: InnovationProject = InnovationProject.objects.create(
            title=title,
            kind=kind,
            description=description.strip(),
            problem_statement=problem_statement.strip(),
            objectives=objectives.strip(),
            expected_outcomes=expected_outcomes.strip(),
            programme=programme,
            cohort=cohort,
            start_date=start_date,
            end_date=end_date,
            created_by=actor,
        )
        ProjectMember.objects.create(
            project=project,
            user=actor,
            role=MemberRole.LEADER,
            joined_date=timezone.localdate(),
            added_by=actor,
        )
        audit_record(
            actor=actor,
            action="project.proposal_create",
            entity=project,
            new_values={
                name: _event_value(name, getattr(project, name))
                for name in PROPOSAL_FIELDS
                if getattr(project, name) not in (None, "")
            }
            | {"status": project.status, "leader": actor.pk},
        )
    return project


def proposal_update(
    *, actor: User, project: InnovationProject, **fields: Any
) -> tuple[InnovationProject, list[str]]:
    """Save what the form holds of a draft, complete or not (the Save button and the
    autosave): the project and the fields that changed, with one audit event when any did."""
    unknown = set(fields) - set(PROPOSAL_FIELDS)
    if unknown:
        raise TypeError(f"Not a proposal field: {', '.join(sorted(unknown))}.")
    permission_check(
        actor=actor,
        action="project.proposal_update",
        allowed=may_edit_proposal(actor, project),
    )
    for name in TYPED_FIELDS & set(fields):
        fields[name] = (fields[name] or "").strip()
    if "title" in fields:
        fields["title"] = _title_clean(fields["title"])
    if "kind" in fields and fields["kind"] not in ProjectKind.values:
        raise ValidationError({"kind": ["Choose a kind of project."]})
    with transaction.atomic(durable=True):
        project = project_locked(project)
        if project.status != ProjectStatus.DRAFT:
            raise ValidationError(
                f"This proposal is {project.get_status_display().lower()}: it can no longer be "
                "changed. Reload the page to see where it stands."
            )
        if "programme" in fields or "cohort" in fields:
            # A cohort chosen without a programme brings its own.
            fields["programme"], fields["cohort"] = _placement(
                actor,
                fields.get("programme", None if "cohort" in fields else project.programme),
                fields.get("cohort", project.cohort),
                default_cohort=False,
            )
        _dates_check(
            fields.get("start_date", project.start_date), fields.get("end_date", project.end_date)
        )
        changed = [
            name
            for name in PROPOSAL_FIELDS
            if name in fields and getattr(project, name) != fields[name]
        ]
        if not changed:
            return project, []
        old_values = {name: _event_value(name, getattr(project, name)) for name in changed}
        for name in changed:
            setattr(project, name, fields[name])
        project.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="project.proposal_update",
            entity=project,
            old_values={
                name: value for name, value in old_values.items() if name not in TYPED_FIELDS
            },
            new_values={name: _event_value(name, getattr(project, name)) for name in changed},
        )
    return project, changed


def proposal_submit(*, actor: User, project: InnovationProject) -> InnovationProject:
    """Hand a complete draft in for review (a new round); its leader and the project managers
    are e-mailed."""
    permission_check(actor=actor, action="project.submit", allowed=may_lead(actor, project))
    with transaction.atomic(durable=True):
        project = project_locked(project)
        if project.status != ProjectStatus.DRAFT:
            raise ValidationError(
                f"This proposal is {project.get_status_display().lower()}: only a draft is "
                "submitted."
            )
        missing = proposal_missing(project)
        if missing:
            errors: dict[str, list[str]] = {
                name: ["Needed before the proposal can be reviewed."] for name in missing
            }
            errors[NON_FIELD_ERRORS] = [
                f"Before it can be submitted for review, fill in the {_labels(missing)}."
            ]
            raise ValidationError(errors)
        if not ReviewCriterion.objects.filter(is_active=True).exists():
            raise ValidationError(
                "Proposals cannot be reviewed yet: the institution has not set the criteria "
                "reviewers score against. Ask an administrator who manages projects to add "
                "them, then submit again."
            )
        project_move(project, "submit", actor=actor, action="project.submit")
        leader_member = current_leader(project)
        leader = leader_member.user if leader_member else None
        context = {
            "title": project.title,
            "round": project.round,
            "programme": project.programme.name if project.programme else "",
        }
        if leader is not None and leader.is_in_service:
            email_enqueue(
                recipient=leader.email,
                template="project_proposal_submitted",
                context={
                    **context,
                    "full_name": leader.full_name,
                    "url": current_institution_url(reverse("projects:my_projects")),
                },
            )
        managers = users_with_permission(MANAGE_PROJECTS)
        if leader is not None:
            managers = managers.exclude(pk=leader.pk)
        for manager in managers:
            email_enqueue(
                recipient=manager.email,
                template="project_proposal_to_review",
                context={
                    **context,
                    "full_name": manager.full_name,
                    "url": current_institution_url(project.get_absolute_url()),
                    "leader_name": leader.full_name if leader else "",
                },
            )
    return project


def proposal_revise(*, actor: User, project: InnovationProject) -> InnovationProject:
    """Rework a rejected proposal into a draft; it keeps its history, and its next submission
    is a new round."""
    permission_check(actor=actor, action="project.revise", allowed=may_lead(actor, project))
    with transaction.atomic(durable=True):
        project = project_locked(project)
        if project.status != ProjectStatus.REJECTED:
            raise ValidationError(
                f"This proposal is {project.get_status_display().lower()}: only a rejected "
                "proposal is revised."
            )
        project_move(project, "revise", actor=actor, action="project.revise")
    return project


def proposal_delete(*, actor: User, project: InnovationProject) -> None:
    """Delete a draft never submitted, with its members and milestones; once submitted, a
    proposal is part of the institution's record and stays."""
    permission_check(
        actor=actor, action="project.proposal_delete", allowed=may_lead(actor, project)
    )
    with transaction.atomic(durable=True):
        project = project_locked(project)
        if project.status != ProjectStatus.DRAFT or project.round:
            raise ValidationError(
                "Only a draft that was never submitted can be deleted: this proposal is part of "
                "the review record."
            )
        audit_record(
            actor=actor,
            action="project.proposal_delete",
            entity=project,
            old_values={
                "status": project.status,
                "programme": project.programme_id,
                "cohort": project.cohort_id,
            },
        )
        project.delete()
