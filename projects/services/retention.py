"""What the data protection jobs do to innovation projects when a learner is anonymised.

A proposal's words are its authors' work and, once submitted, the institution's record of what
it reviewed and ran: in a project other people proposed or worked on (another leader or
member, ever), they stay, and the learner's name leaves them with their account's. A project
that is only the learner's (no one else ever led it or worked on it, and no one else proposed
it) says little that is not about them, so its free text goes: the proposal's title and
texts, its milestones' descriptions and evidence (notes, links, and the evidence files, deleted
from storage with their rows), the proposal as submitted in each round, the reasons given when
it was sent back or rejected, and the reviewers' comments on it (opinions about one person's
work). Statuses, dates, rounds, kinds, programmes, cohorts, scores and memberships stay, for the
counts. Composed inside the data protection job's transaction (not durable); the job checks the
permission and records the run."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from audit.services import CHANGED, audit_record
from learners.models import Learner
from projects.access import WORKING_ROLES
from projects.models import (
    InnovationProject,
    MilestoneEvidence,
    ProjectMember,
    ProjectMilestone,
    ProjectStatusChange,
    ReviewAssignment,
    ReviewScore,
)
from signing.services.retention import ERASED
from tenants.storage import file_delete_on_commit

PROPOSAL_TEXTS = ("title", "description", "problem_statement", "objectives", "expected_outcomes")


def projects_only_of(user_id: int) -> QuerySet[InnovationProject]:
    """The projects that are only this person's: they proposed or worked on it, nobody else
    proposed it, and nobody else ever led it or was a member (mentors and advisors guide a
    project; they do not make it theirs)."""
    worked_on = Exists(
        ProjectMember.objects.filter(
            project=OuterRef("pk"), user_id=user_id, role__in=WORKING_ROLES
        )
    )
    someone_else = Exists(
        ProjectMember.objects.filter(project=OuterRef("pk"), role__in=WORKING_ROLES).exclude(
            user_id=user_id
        )
    )
    projects: QuerySet[InnovationProject] = InnovationProject.objects.filter(
        Q(created_by_id=user_id) | worked_on
    ).filter(Q(created_by_id=user_id) | Q(created_by__isnull=True), ~someone_else)
    return projects


def learner_projects_erase(*, learner: Learner) -> None:
    """Erase the free text of the projects that are only `learner`'s (see the module)."""
    if learner.user_id is None:
        return
    projects = list(projects_only_of(learner.user_id).values_list("pk", flat=True))
    if not projects:
        return
    for text in PROPOSAL_TEXTS:
        InnovationProject.objects.filter(pk__in=projects).exclude(**{text: ""}).update(
            **{text: ERASED}
        )
    milestones = ProjectMilestone.objects.filter(project_id__in=projects)
    milestones.exclude(description="").update(description=ERASED)
    milestones.exclude(evidence_note="").update(evidence_note=ERASED)
    milestones.update(evidence_link="")
    evidence = MilestoneEvidence.objects.filter(milestone__in=milestones)
    for item in evidence.exclude(file="").only("pk", "file"):
        file_delete_on_commit(item.file.storage, item.file.name or "")
    evidence_count, _by_model = evidence.delete()
    changes = ProjectStatusChange.objects.filter(project_id__in=projects)
    changes.exclude(reason="").update(reason=ERASED)
    # The proposal as submitted in each round is its words again.
    changes.exclude(proposal={}).update(proposal={})
    assignments = ReviewAssignment.objects.filter(project_id__in=projects)
    assignments.exclude(comments="").update(comments=ERASED)
    ReviewScore.objects.filter(assignment__in=assignments).exclude(comment="").update(
        comment=ERASED
    )
    audit_record(
        action="projects.personal_data_erased",
        entity=learner,
        new_values={
            "projects": len(projects),
            "milestone_evidence": evidence_count,
            "notes": CHANGED,
        },
    )
