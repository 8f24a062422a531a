"""A project's milestones and the running project: planning milestones (the leader or a
manager), moving them on and completing them with evidence (the leader and members while the
project runs), marking overdue ones delayed (the daily task), and starting and completing an
approved project."""

import datetime
from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record, kept_out
from enrolments.evidence import (
    evidence_audit_values,
    evidence_file_write,
    evidence_files_written,
    evidence_fill,
)
from enrolments.scanning import upload_scan_record
from enrolments.uploads import CheckedUpload
from notifications.services import email_enqueue
from projects.access import may_lead, may_manage_team, may_work_on
from projects.models import (
    InnovationProject,
    MemberRole,
    MilestoneEvidence,
    MilestoneStatus,
    ProjectMember,
    ProjectMilestone,
    ProjectStatus,
)
from projects.selectors.team import milestones_delay_unreported, milestones_overdue
from projects.services.history import project_locked, project_move
from projects.services.members import project_open_check
from tenants.sites import current_institution_url

LINK_SCHEMES = ["http", "https"]
# Who hears that a milestone was missed.
TOLD_OF_DELAYS = (MemberRole.LEADER, MemberRole.MENTOR)


def _day(day: datetime.date) -> str:
    return f"{day:%-d %B %Y}"


def _due_date_check(project: InnovationProject, due_date: datetime.date) -> None:
    if project.start_date and due_date < project.start_date:
        start = _day(project.start_date)
        raise ValidationError(
            {"due_date": f"Choose a date on or after the project's start, {start}."}
        )
    if project.end_date and due_date > project.end_date:
        end = _day(project.end_date)
        raise ValidationError({"due_date": f"Choose a date on or before the project's end, {end}."})


def _milestone_locked(milestone: ProjectMilestone) -> ProjectMilestone:
    locked: ProjectMilestone = ProjectMilestone.objects.select_for_update().get(pk=milestone.pk)
    return locked


def _values(milestone: ProjectMilestone) -> dict[str, Any]:
    return {
        "title": milestone.title,
        "due_date": milestone.due_date.isoformat(),
        "status": milestone.status,
    }


def milestone_add(
    *,
    actor: User,
    project: InnovationProject,
    title: str,
    due_date: datetime.date,
    description: str = "",
) -> ProjectMilestone:
    """Plan a milestone (pending), due within the project's dates when they are set."""
    permission_check(
        actor=actor, action="project.milestone_add", allowed=may_manage_team(actor, project)
    )
    if not title.strip():
        raise ValidationError({"title": "Give the milestone a title."})
    with transaction.atomic(durable=True):
        project = project_locked(project)
        project_open_check(project)
        _due_date_check(project, due_date)
        milestone: ProjectMilestone = ProjectMilestone.objects.create(
            project=project, title=title.strip(), description=description, due_date=due_date
        )
        audit_record(
            actor=actor,
            action="project.milestone_add",
            entity=milestone,
            new_values={"project": project.pk, **_values(milestone)},
        )
    return milestone


def milestone_edit(
    *,
    actor: User,
    milestone: ProjectMilestone,
    title: str,
    due_date: datetime.date,
    description: str = "",
) -> ProjectMilestone:
    """Change a milestone not yet completed. A delayed milestone given a due date still to come
    is rescheduled: pending again (and reported again should it be missed again)."""
    project = milestone.project
    permission_check(
        actor=actor, action="project.milestone_edit", allowed=may_manage_team(actor, project)
    )
    if not title.strip():
        raise ValidationError({"title": "Give the milestone a title."})
    with transaction.atomic(durable=True):
        project = project_locked(project)
        project_open_check(project)
        milestone = _milestone_locked(milestone)
        if milestone.status == MilestoneStatus.COMPLETED:
            raise ValidationError("This milestone is completed: it is part of the record now.")
        _due_date_check(project, due_date)
        old_values = _values(milestone)
        milestone.title = title.strip()
        milestone.description = description
        milestone.due_date = due_date
        if milestone.status == MilestoneStatus.DELAYED and due_date >= timezone.localdate():
            milestone.reschedule()
        milestone.save()
        audit_record(
            actor=actor,
            action="project.milestone_edit",
            entity=milestone,
            old_values=old_values,
            new_values=_values(milestone),
        )
    return milestone


def milestone_delete(*, actor: User, milestone: ProjectMilestone) -> None:
    """Remove a milestone no longer planned: pending, in progress or delayed. A completed one
    is part of the project's record."""
    project = milestone.project
    permission_check(
        actor=actor, action="project.milestone_delete", allowed=may_manage_team(actor, project)
    )
    with transaction.atomic(durable=True):
        project = project_locked(project)
        project_open_check(project)
        milestone = _milestone_locked(milestone)
        if milestone.status == MilestoneStatus.COMPLETED:
            raise ValidationError(
                "This milestone is completed: it is part of the project's record and cannot be "
                "deleted."
            )
        audit_record(
            actor=actor,
            action="project.milestone_delete",
            entity=milestone,
            old_values={"project": project.pk, **_values(milestone)},
        )
        milestone.delete()


def _working_check(actor: User, milestone: ProjectMilestone, action: str) -> None:
    permission_check(actor=actor, action=action, allowed=may_work_on(actor, milestone.project))


def _running_check(project: InnovationProject) -> None:
    if project.status != ProjectStatus.IN_PROGRESS:
        raise ValidationError(
            f"This project is {project.get_status_display().lower()}: milestones move on only "
            "while it is in progress."
        )


def milestone_start(*, actor: User, milestone: ProjectMilestone) -> ProjectMilestone:
    """Work on a pending or delayed milestone has begun."""
    _working_check(actor, milestone, "project.milestone_start")
    with transaction.atomic(durable=True):
        _running_check(project_locked(milestone.project))
        milestone = _milestone_locked(milestone)
        if not can_proceed(milestone.start):
            raise ValidationError(
                f"This milestone is {milestone.get_status_display().lower()}: it cannot be started."
            )
        old_status = milestone.status
        milestone.start()
        milestone.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="project.milestone_start",
            entity=milestone,
            old_values={"status": old_status},
            new_values={"status": milestone.status},
        )
    return milestone


def evidence_link_clean(link: str) -> str:
    """A web address (http or https only), or "" for none."""
    link = link.strip()
    if link:
        try:
            URLValidator(schemes=LINK_SCHEMES)(link)
        except ValidationError as error:
            raise ValidationError(
                {"evidence_link": "Give a web address starting with http:// or https://."}
            ) from error
    return link


def milestone_complete(
    *,
    actor: User,
    milestone: ProjectMilestone,
    checked: CheckedUpload | None = None,
    scan_status: str = "",
    evidence_link: str = "",
    evidence_note: str = "",
) -> ProjectMilestone:
    """Complete a milestone today with its evidence: a file (checked by enrolments.uploads), a
    link, or both, and an optional note. The file is removed again if this does not commit."""
    _working_check(actor, milestone, "project.milestone_complete")
    link = evidence_link_clean(evidence_link)
    if checked is None and not link:
        raise ValidationError("Add evidence that the milestone is done: a file, a link, or both.")
    with evidence_files_written() as written, transaction.atomic(durable=True):
        _running_check(project_locked(milestone.project))
        milestone = _milestone_locked(milestone)
        if not can_proceed(milestone.complete):
            raise ValidationError(
                f"This milestone is {milestone.get_status_display().lower()} already."
            )
        old_status = milestone.status
        milestone.complete()
        milestone.completed_date = timezone.localdate()
        milestone.evidence_link = link
        milestone.evidence_note = evidence_note.strip()
        milestone.save()
        new_values: dict[str, Any] = {
            "status": milestone.status,
            "completed_date": milestone.completed_date.isoformat(),
            "evidence_link": kept_out(link),
        }
        if checked is not None:
            evidence = MilestoneEvidence(milestone=milestone)
            evidence_fill(evidence, checked, actor=actor, scan_status=scan_status)
            evidence_file_write(evidence, written=written, scan=_evidence_scan_queue)
            evidence.save()
            new_values["evidence_file"] = evidence_audit_values(evidence, checked)
        audit_record(
            actor=actor,
            action="project.milestone_complete",
            entity=milestone,
            old_values={"status": old_status},
            new_values=new_values,
        )
    return milestone


def _evidence_scan_queue(evidence_id: int) -> None:
    from projects.tasks import milestone_evidence_scan

    milestone_evidence_scan.delay(evidence_id)


def milestone_evidence_scan_record(
    *, evidence_id: int, verdict: str, signature: str = "", detail: str = ""
) -> MilestoneEvidence | None:
    """Record the scanner's verdict (enrolments.scanning.upload_scan_record): an infected file
    is deleted once this commits and can never be read."""
    return upload_scan_record(
        MilestoneEvidence,
        pk=evidence_id,
        verdict=verdict,
        action="projects.milestone_evidence",
        signature=signature,
        detail=detail,
    )


# --- The daily task ---------------------------------------------------------------------------


def milestones_mark_delayed(*, today: datetime.date) -> int:
    """Mark delayed every milestone of an approved or running project that is not done and was
    due before `today` (the institution's date), then tell each project's leader and current
    mentors, one e-mail per person listing their projects' delayed milestones not reported yet
    for their due date. Idempotent: a second run finds nothing to mark and nothing to report.
    Returns how many milestones it marked."""
    with transaction.atomic(durable=True):
        overdue = list(milestones_overdue(today).select_for_update(of=("self",)).order_by("pk"))
        for milestone in overdue:
            old_status = milestone.status
            milestone.mark_delayed()
            milestone.save(update_fields=["status", "updated_at"])
            audit_record(
                actor=None,
                action="project.milestone_delayed",
                entity=milestone,
                old_values={"status": old_status},
                new_values={"status": milestone.status, "due_date": milestone.due_date.isoformat()},
            )
        _delays_report(today)
    return len(overdue)


def _delays_report(today: datetime.date) -> None:
    unreported = list(
        milestones_delay_unreported()
        .select_for_update(of=("self",))
        .select_related("project")
        .order_by("project__title", "project_id", "due_date", "pk")
    )
    if not unreported:
        return
    told = ProjectMember.objects.filter(
        project_id__in={milestone.project_id for milestone in unreported},
        role__in=TOLD_OF_DELAYS,
        left_date__isnull=True,
        user__is_active=True,
        user__deleted_at__isnull=True,
    ).select_related("user")
    people: dict[int, User] = {}
    projects_of: dict[int, set[int]] = defaultdict(set)
    for membership in told:
        people[membership.user_id] = membership.user
        projects_of[membership.user_id].add(membership.project_id)
    for person_id, person in people.items():
        theirs = [m for m in unreported if m.project_id in projects_of[person_id]]
        email_enqueue(
            recipient=person.email,
            template="project_milestones_delayed",
            context={
                "full_name": person.full_name,
                "milestones": [
                    {
                        "title": milestone.title,
                        "project_title": milestone.project.title,
                        "due": _day(milestone.due_date),
                        "days_late": (today - milestone.due_date).days,
                        "url": current_institution_url(
                            reverse("projects:milestones", args=[milestone.project_id])
                        ),
                    }
                    for milestone in theirs
                ],
            },
        )
    for milestone in unreported:
        milestone.delay_notified_for = milestone.due_date
    ProjectMilestone.objects.bulk_update(unreported, ["delay_notified_for"])


# --- Starting and completing the project ------------------------------------------------------


def project_start(*, actor: User, project: InnovationProject) -> InnovationProject:
    """An approved project begins (today is its start date unless one was set)."""
    permission_check(actor=actor, action="project.start", allowed=may_lead(actor, project))
    with transaction.atomic(durable=True):
        project = project_locked(project)
        today = timezone.localdate()
        # A project whose planned end has passed keeps its start date empty rather than one
        # after its end.
        sets_start = project.start_date is None and (
            project.end_date is None or project.end_date >= today
        )
        project_move(
            project,
            "start",
            actor=actor,
            action="project.start",
            extra_values={"start_date": today.isoformat()} if sets_start else None,
        )
        if sets_start:
            project.start_date = today
            project.save(update_fields=["start_date", "updated_at"])
    return project


def project_complete(*, actor: User, project: InnovationProject) -> InnovationProject:
    """A running project is done: only once every milestone is completed (or deleted, if no
    longer planned)."""
    permission_check(actor=actor, action="project.complete", allowed=may_lead(actor, project))
    with transaction.atomic(durable=True):
        project = project_locked(project)
        open_titles = list(
            project.milestones.exclude(status=MilestoneStatus.COMPLETED).values_list(
                "title", flat=True
            )
        )
        if open_titles and project.status == ProjectStatus.IN_PROGRESS:
            raise ValidationError(
                "Complete every milestone first, or delete those no longer planned: "
                + "; ".join(open_titles)
                + "."
            )
        project_move(project, "complete", actor=actor, action="project.complete")
    return project
