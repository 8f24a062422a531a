"""Moving a project's status: the transition, the kept ProjectStatusChange and its audit event,
in the caller's transaction (each service locks the project, checks its own rules and calls
this). Not `durable`: the services of projects.services compose it."""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import User
from audit.services import audit_record, kept_out
from projects.models import InnovationProject, ProjectStatus, ProjectStatusChange


def project_locked(project: InnovationProject) -> InnovationProject:
    """The project's row, locked for the rest of the transaction."""
    locked: InnovationProject = (
        InnovationProject.objects.select_for_update(of=("self",))
        .select_related("programme", "cohort")
        .get(pk=project.pk)
    )
    return locked


def _proposal(project: InnovationProject) -> dict[str, str]:
    """The proposal as submitted, kept with the submission: a revision later overwrites the
    project's texts, and each round's scores must sit beside the text that was scored."""
    return {
        "title": project.title,
        "kind": project.get_kind_display(),
        "description": project.description,
        "problem_statement": project.problem_statement,
        "objectives": project.objectives,
        "expected_outcomes": project.expected_outcomes,
        "start_date": project.start_date.isoformat() if project.start_date else "",
        "end_date": project.end_date.isoformat() if project.end_date else "",
        "programme": project.programme.name if project.programme else "",
        "cohort": project.cohort.name if project.cohort else "",
    }


def project_move(
    project: InnovationProject,
    transition: str,
    *,
    actor: User | None,
    action: str,
    reason: str = "",
    panel_scores: dict[str, Any] | None = None,
    extra_values: dict[str, Any] | None = None,
) -> ProjectStatusChange:
    """Run `transition` (a transition method's name) on the locked `project`, save it and keep
    the move. A move the project's status does not allow is a ValidationError naming the
    status, so that two people acting at once get a clear answer rather than an error.
    `extra_values` are what else the move sets (a start date), recorded in the same event."""
    method = getattr(project, transition)
    if not can_proceed(method):
        raise ValidationError(
            f"This project is {project.get_status_display().lower()}: it can no longer be "
            "changed that way. Reload the page to see where it stands."
        )
    from_status = project.status
    method()
    now = timezone.now()
    fields = ["status", "updated_at"]
    if project.status == ProjectStatus.SUBMITTED:
        project.round += 1
        project.submitted_at = now
        fields += ["round", "submitted_at"]
    if project.status in (ProjectStatus.APPROVED, ProjectStatus.REJECTED):
        project.decided_at = now
        fields.append("decided_at")
    project.save(update_fields=fields)
    submitted = _proposal(project) if project.status == ProjectStatus.SUBMITTED else {}
    change = ProjectStatusChange.objects.create(
        project=project,
        round=project.round,
        from_status=from_status,
        to_status=project.status,
        reason=reason,
        panel_scores=panel_scores or {},
        proposal=submitted,
        actor=actor,
    )
    values: dict[str, Any] = {"status": project.status, "round": project.round}
    if reason:
        values["reason"] = kept_out(reason)
    if panel_scores:
        values["panel_scores"] = panel_scores
    values.update(extra_values or {})
    audit_record(
        actor=actor,
        action=action,
        entity=project,
        old_values={"status": from_status},
        new_values=values,
    )
    return change
