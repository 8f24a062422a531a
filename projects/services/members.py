"""A project's team: adding members, mentors and advisors, handing the lead over, leaving.

A project has exactly one current leader at every moment: the leader is named when the project
is proposed, changes only by `leader_change` (the old row ends and the new one starts in one
transaction) and cannot leave. Leaving keeps the row with its date."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from notifications.services import email_enqueue
from projects.access import FINISHED, is_leader, is_manager, may_manage_team
from projects.models import InnovationProject, MemberRole, ProjectMember, ReviewAssignment
from projects.selectors.team import people_one_may_add
from projects.services.history import project_locked
from tenants.sites import current_institution_url

# The roles `member_add` gives; the leader is named at proposal and changed by hand-over.
ADDABLE_ROLES = (MemberRole.MEMBER, MemberRole.MENTOR, MemberRole.ADVISOR)
# Those told by e-mail that they were added (members hear it from their team).
TOLD_WHEN_ADDED = (MemberRole.MENTOR, MemberRole.ADVISOR)


def project_open_check(project: InnovationProject) -> None:
    """A finished project's team and milestones are its record."""
    if project.status in FINISHED:
        raise ValidationError(
            f"This project is {project.get_status_display().lower()}: its team and milestones "
            "no longer change."
        )


def _may_join_check(actor: User, project: InnovationProject, user: User) -> None:
    """`user` is someone `actor` may add (projects.selectors.team.people_one_may_add), and is
    not reviewing the project's current round: a reviewer does not join the team they score."""
    if not people_one_may_add(actor, project).filter(pk=user.pk).exists():
        raise ValidationError(
            {
                "user": f"{user} cannot join this project: choose a person the search finds "
                "(learners, staff and host organisations' members whose accounts are active)."
            }
        )
    if ReviewAssignment.objects.filter(
        project=project, round=project.round, reviewer=user, submitted_at__isnull=True
    ).exists():
        raise ValidationError(
            {
                "user": f"{user} is reviewing this project and cannot join its team while their "
                "review is open: a reviewer does not join the team they score."
            }
        )


def _held_twice_error(user: User, role: str) -> ValidationError:
    label = MemberRole(role).label.lower()
    return ValidationError({"user": f"{user} is already a {label} of this project."})


def member_add(*, actor: User, project: InnovationProject, user: User, role: str) -> ProjectMember:
    """Add `user` to the team as a member, mentor or advisor from today. One person may hold
    two roles (a member who also mentors), never the same role twice at once, and the leader
    takes no other role. Mentors and advisors are told by e-mail."""
    permission_check(
        actor=actor, action="project.member_add", allowed=may_manage_team(actor, project)
    )
    if role not in ADDABLE_ROLES:
        raise ValidationError({"role": "Choose member, mentor or advisor."})
    with transaction.atomic(durable=True):
        project = project_locked(project)
        project_open_check(project)
        _may_join_check(actor, project, user)
        held = set(
            project.members.filter(user=user, left_date__isnull=True).values_list("role", flat=True)
        )
        if MemberRole.LEADER in held:
            raise ValidationError({"user": f"{user} leads this project and takes no other role."})
        if role in held:
            raise _held_twice_error(user, role)
        try:
            with transaction.atomic():
                membership = ProjectMember.objects.create(
                    project=project,
                    user=user,
                    role=role,
                    joined_date=timezone.localdate(),
                    added_by=actor,
                )
        except IntegrityError as clash:
            raise _held_twice_error(user, role) from clash
        audit_record(
            actor=actor,
            action="project.member_add",
            entity=membership,
            new_values={"project": project.pk, "user": user.pk, "role": role},
        )
        if role in TOLD_WHEN_ADDED:
            email_enqueue(
                recipient=user.email,
                template="project_member_added",
                context={
                    "full_name": user.full_name,
                    "project_title": project.title,
                    "role": membership.get_role_display().lower(),
                    "added_by": actor.full_name or actor.email,
                    "url": current_institution_url(reverse("projects:members", args=[project.pk])),
                },
            )
    return membership


def leader_change(
    *, actor: User, project: InnovationProject, new_leader: User, stays_as_member: bool = True
) -> ProjectMember:
    """Hand the lead to `new_leader` from today: the current leader's row ends (they stay on
    as a member if `stays_as_member`), the new leader's other roles end as they take over, and
    at no moment is there more than one leader. Both are told by e-mail."""
    permission_check(
        actor=actor, action="project.leader_change", allowed=may_manage_team(actor, project)
    )
    today = timezone.localdate()
    with transaction.atomic(durable=True):
        project = project_locked(project)
        project_open_check(project)
        old = (
            project.members.select_for_update()
            .select_related("user")
            .filter(role=MemberRole.LEADER, left_date__isnull=True)
            .first()
        )
        if old is not None and old.user_id == new_leader.pk:
            raise ValidationError({"user": f"{new_leader} already leads this project."})
        _may_join_check(actor, project, new_leader)
        if old is not None:
            old.left_date = today
            old.save(update_fields=["left_date"])
        # The leader takes no other role: their member (or mentor) row ends as they take over.
        project.members.filter(user=new_leader, left_date__isnull=True).update(left_date=today)
        leader = ProjectMember.objects.create(
            project=project,
            user=new_leader,
            role=MemberRole.LEADER,
            joined_date=today,
            added_by=actor,
        )
        if old is not None and stays_as_member:
            ProjectMember.objects.get_or_create(
                project=project,
                user=old.user,
                role=MemberRole.MEMBER,
                left_date=None,
                defaults={"joined_date": today, "added_by": actor},
            )
        audit_record(
            actor=actor,
            action="project.leader_change",
            entity=project,
            old_values={"leader": old.user_id if old else None},
            new_values={"leader": new_leader.pk, "old_leader_stays_as_member": stays_as_member},
        )
        told = [(new_leader, True)] + ([(old.user, False)] if old else [])
        for person, is_new in told:
            if person.is_in_service:
                email_enqueue(
                    recipient=person.email,
                    template="project_leader_changed",
                    context={
                        "full_name": person.full_name,
                        "project_title": project.title,
                        "new_leader": new_leader.full_name or new_leader.email,
                        "is_new_leader": is_new,
                        "url": current_institution_url(
                            reverse("projects:members", args=[project.pk])
                        ),
                    },
                )
    return leader


def member_leave(*, actor: User, membership: ProjectMember) -> ProjectMember:
    """End a membership today, by the member themselves, the leader or a manager; the row
    stays. The current leader hands over first (`leader_change`)."""
    project = membership.project
    allowed = membership.user_id == actor.pk or is_leader(actor, project) or is_manager(actor)
    permission_check(actor=actor, action="project.member_leave", allowed=allowed)
    with transaction.atomic(durable=True):
        project = project_locked(project)
        project_open_check(project)
        membership = (
            ProjectMember.objects.select_for_update().select_related("user").get(pk=membership.pk)
        )
        if membership.left_date is not None:
            raise ValidationError(f"{membership.user} already left this project.")
        if membership.role == MemberRole.LEADER:
            raise ValidationError(
                "The leader cannot leave the project: hand it over to another person first "
                "(Change leader)."
            )
        membership.left_date = timezone.localdate()
        membership.save(update_fields=["left_date"])
        audit_record(
            actor=actor,
            action="project.member_leave",
            entity=membership,
            old_values={"left_date": None},
            new_values={"left_date": membership.left_date.isoformat()},
        )
    return membership
