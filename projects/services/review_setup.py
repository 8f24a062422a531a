"""The institution's review set-up: the criteria every submission is scored against and the
panels that review each programme's proposals (or every programme's).

- A criterion's name is unique (whatever its case) and its scores run from 0 to its maximum
  (1 to 100). A criterion that has been scored is never deleted, only deactivated, and its
  maximum no longer changes (earlier scores were given out of it).
- A panel per programme, and one for every programme without its own; it names people, a role
  (everyone holding it reviews), or both. Reviewers are people in service who are not students:
  learners never review.

Each change is checked against projects.manage_projects and audited."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from academics.models import Programme
from accounts.models import Role, SystemRole, User
from accounts.permissions import permission_check
from audit.services import audit_record
from projects.access import MANAGE_PROJECTS
from projects.models import ReviewCriterion, ReviewPanel, ReviewScore
from projects.selectors.review import possible_reviewers

MAX_SCORE_LIMIT = 100


# --- Criteria ---------------------------------------------------------------------------------


def _criterion_values(criterion: ReviewCriterion) -> dict[str, Any]:
    return {
        "name": criterion.name,
        "description": criterion.description,
        "max_score": criterion.max_score,
        "position": criterion.position,
        "is_active": criterion.is_active,
    }


def _criterion_check(criterion: ReviewCriterion) -> None:
    errors: dict[str, list[str]] = {}
    if not criterion.name:
        errors["name"] = ["Name the criterion."]
    elif (
        ReviewCriterion.objects.filter(name__iexact=criterion.name)
        .exclude(pk=criterion.pk)
        .exists()
    ):
        errors["name"] = [f"There is already a criterion called {criterion.name}."]
    if not 1 <= criterion.max_score <= MAX_SCORE_LIMIT:
        errors["max_score"] = [f"Give the highest score, from 1 to {MAX_SCORE_LIMIT}."]
    if errors:
        raise ValidationError(errors)


def _criterion_save(criterion: ReviewCriterion) -> None:
    """Save `criterion` after its checks; a criterion of the same name saved meanwhile by
    someone else (the unique name) is the name's error, not a server error."""
    try:
        with transaction.atomic():
            criterion.save()
    except IntegrityError as error:
        raise ValidationError(
            {"name": [f"There is already a criterion called {criterion.name}."]}
        ) from error


def criterion_create(
    *, actor: User, name: str, description: str, max_score: int, position: int
) -> ReviewCriterion:
    """A new criterion, scored from the next submission sent to a panel."""
    permission_check(actor=actor, permission=MANAGE_PROJECTS, action="project.criterion_create")
    with transaction.atomic(durable=True):
        criterion = ReviewCriterion(
            name=name.strip(),
            description=description.strip(),
            max_score=max_score,
            position=position,
        )
        _criterion_check(criterion)
        _criterion_save(criterion)
        audit_record(
            actor=actor,
            action="project.criterion_create",
            entity=criterion,
            new_values=_criterion_values(criterion),
        )
    return criterion


def _criterion_locked(criterion: ReviewCriterion) -> ReviewCriterion:
    locked: ReviewCriterion = ReviewCriterion.objects.select_for_update().get(pk=criterion.pk)
    return locked


def criterion_update(
    *,
    actor: User,
    criterion: ReviewCriterion,
    name: str,
    description: str,
    max_score: int,
    position: int,
) -> ReviewCriterion:
    """Rename, describe or move a criterion; its maximum changes only while it is unscored."""
    permission_check(actor=actor, permission=MANAGE_PROJECTS, action="project.criterion_update")
    with transaction.atomic(durable=True):
        criterion = _criterion_locked(criterion)
        old = _criterion_values(criterion)
        if (
            max_score != criterion.max_score
            and ReviewScore.objects.filter(criterion=criterion).exists()
        ):
            raise ValidationError(
                {
                    "max_score": [
                        f"Reviewers have scored out of {criterion.max_score} already: keep it, "
                        "or deactivate this criterion and add a new one."
                    ]
                }
            )
        criterion.name = name.strip()
        criterion.description = description.strip()
        criterion.max_score = max_score
        criterion.position = position
        _criterion_check(criterion)
        _criterion_save(criterion)
        audit_record(
            actor=actor,
            action="project.criterion_update",
            entity=criterion,
            old_values=old,
            new_values=_criterion_values(criterion),
        )
    return criterion


def criterion_active_set(
    *, actor: User, criterion: ReviewCriterion, active: bool
) -> ReviewCriterion:
    """Deactivate a criterion (reviews stop asking for it; its scores stay) or bring it back."""
    action = "project.criterion_reactivate" if active else "project.criterion_deactivate"
    permission_check(actor=actor, permission=MANAGE_PROJECTS, action=action)
    with transaction.atomic(durable=True):
        criterion = _criterion_locked(criterion)
        if criterion.is_active == active:
            state = "in use" if active else "already out of use"
            raise ValidationError(f"{criterion.name} is {state}.")
        criterion.is_active = active
        criterion.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action=action,
            entity=criterion,
            old_values={"is_active": not active},
            new_values={"is_active": active},
        )
    return criterion


# --- Panels -----------------------------------------------------------------------------------


def _panel_check(role: Role | None, reviewers: list[User]) -> None:
    if role is None and not reviewers:
        raise ValidationError(
            "Name at least one reviewer or a role whose holders review: a panel without "
            "either cannot review anything."
        )
    if role is not None and role.key == SystemRole.STUDENT:
        raise ValidationError({"role": ["Students never review: choose a staff role."]})
    allowed = set(
        possible_reviewers()
        .filter(pk__in=[reviewer.pk for reviewer in reviewers])
        .values_list("pk", flat=True)
    )
    refused = sorted(
        reviewer.full_name or reviewer.email for reviewer in reviewers if reviewer.pk not in allowed
    )
    if refused:
        raise ValidationError(
            {
                "reviewers": [
                    "Reviewers are people in service who are not students; these cannot "
                    f"review: {', '.join(refused)}."
                ]
            }
        )


def _panel_values(panel: ReviewPanel, reviewer_ids: set[int]) -> dict[str, Any]:
    return {
        "programme": panel.programme_id,
        "role": panel.role.name if panel.role else None,
        "reviewers": sorted(reviewer_ids),
    }


def _panel_free_check(programme: Programme | None) -> None:
    if ReviewPanel.objects.filter(programme=programme).exists():
        raise _panel_exists(programme)


def _panel_exists(programme: Programme | None) -> ValidationError:
    which = programme.name if programme else "every programme"
    return ValidationError({"programme": [f"There is a panel for {which} already: edit that one."]})


def panel_create(
    *, actor: User, programme: Programme | None, role: Role | None, reviewers: list[User]
) -> ReviewPanel:
    """The panel of `programme` (None: of every programme without its own)."""
    permission_check(actor=actor, permission=MANAGE_PROJECTS, action="project.panel_create")
    with transaction.atomic(durable=True):
        _panel_free_check(programme)
        _panel_check(role, reviewers)
        try:
            with transaction.atomic():
                panel = ReviewPanel.objects.create(programme=programme, role=role)
        except IntegrityError as error:
            # Someone added the programme's panel since the check above.
            raise _panel_exists(programme) from error
        panel.reviewers.set(reviewers)
        added = {reviewer.pk for reviewer in reviewers}
        audit_record(
            actor=actor,
            action="project.panel_create",
            entity=panel,
            new_values=_panel_values(panel, added),
        )
    return panel


def panel_update(
    *, actor: User, panel: ReviewPanel, role: Role | None, reviewers: list[User]
) -> ReviewPanel:
    """Change a panel's role and people; the audit event says who was added and removed.
    Reviews already asked for stay with the people asked."""
    permission_check(actor=actor, permission=MANAGE_PROJECTS, action="project.panel_update")
    with transaction.atomic(durable=True):
        panel = (
            ReviewPanel.objects.select_for_update(of=("self",))
            .select_related("role")
            .get(pk=panel.pk)
        )
        _panel_check(role, reviewers)
        before = set(panel.reviewers.values_list("pk", flat=True))
        after = {reviewer.pk for reviewer in reviewers}
        old_values = _panel_values(panel, before)
        panel.role = role
        panel.save(update_fields=["role", "updated_at"])
        panel.reviewers.set(reviewers)
        audit_record(
            actor=actor,
            action="project.panel_update",
            entity=panel,
            old_values=old_values,
            new_values={
                **_panel_values(panel, after),
                "reviewers_added": sorted(after - before),
                "reviewers_removed": sorted(before - after),
            },
        )
    return panel
