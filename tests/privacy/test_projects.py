"""Innovation projects and data protection: a learner's access request holds the proposals
they made, their memberships, the milestones of the projects they led, the evidence files they
uploaded and the reviews they wrote; anonymising a learner erases the free text and evidence
files of the projects that are only theirs and keeps shared projects as the institution's
record."""

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from audit.models import AuditEvent
from learners.models import Learner
from privacy.access.holdings import learner_holdings
from privacy.access.services import access_request_create
from privacy.models import JobKind
from privacy.services.jobs import job_run
from projects.models import (
    InnovationProject,
    MemberRole,
    MilestoneEvidence,
    MilestoneStatus,
    ProjectMember,
    ProjectMilestone,
    ProjectStatus,
    ProjectStatusChange,
    ReviewAssignment,
    ReviewScore,
)
from projects.services.retention import projects_only_of
from signing.services.retention import ERASED
from tests.privacy.support import FIRST_NAME, cohort_ended, graduate_make, traces
from tests.projects.support import project_world

pytestmark = pytest.mark.django_db

JOINED = datetime.date(2027, 1, 15)


def _member(project, user, role, *, left=None):
    return ProjectMember.objects.create(
        project=project, user=user, role=role, joined_date=JOINED, left_date=left
    )


def _reviewed(project, reviewer, criterion, *, comments, comment):
    assignment = ReviewAssignment.objects.create(
        project=project, round=1, reviewer=reviewer, comments=comments
    )
    ReviewScore.objects.create(assignment=assignment, criterion=criterion, score=4, comment=comment)
    return assignment


def _evidence(milestone, uploaded_by, name: str, content: bytes) -> MilestoneEvidence:
    """A stored evidence file (written directly: the milestone services' tests cover uploads)."""
    evidence = MilestoneEvidence(
        milestone=milestone,
        uploaded_by=uploaded_by,
        original_name=name,
        size=len(content),
        content_type="application/pdf",
        sha256=hashlib.sha256(content).hexdigest(),
    )
    evidence.file.save(name, ContentFile(content), save=True)
    return evidence


def _areas(learner, admin):
    return {area.key: area for area in learner_holdings(learner=learner, actor=admin)}


def test_the_access_request_holds_the_learners_projects(admin):
    world = project_world(admin)
    own = world.project(
        status=ProjectStatus.IN_PROGRESS, problem_statement="Commuters' phones run flat."
    )
    world.milestone(
        own,
        title="Prototype built",
        due_date=datetime.date(2027, 3, 1),
        status=MilestoneStatus.COMPLETED,
        evidence_note="Photos of the kiosk.",
    )
    theirs = world.project(title="Water tanks", leader=world.other_learner)
    _member(theirs, world.learner, MemberRole.MEMBER, left=datetime.date(2027, 2, 1))
    world.milestone(theirs, title="Not led by the learner", due_date=datetime.date(2027, 4, 1))
    # A learner who reviews (a panel may name anyone): their scores and comments are theirs.
    _reviewed(
        theirs, world.learner, world.criteria[0], comments="Clear need.", comment="Well argued."
    )
    # Others' reviews of the learner's project are not the learner's.
    _reviewed(
        own, world.reviewers[0], world.criteria[0], comments="Reviewer's view.", comment="Fine."
    )

    areas = _areas(Learner.objects.get(user=world.learner), admin)

    [proposal] = areas["projects"].rows
    assert (proposal["Project"], proposal["Title"], proposal["Problem"]) == (
        own.pk,
        "Solar kiosks for taxi ranks",
        "Commuters' phones run flat.",
    )
    assert {(row["Title"], row["Role"], row["Left"]) for row in areas["project_members"].rows} == {
        ("Solar kiosks for taxi ranks", MemberRole.LEADER, None),
        ("Water tanks", MemberRole.MEMBER, datetime.date(2027, 2, 1)),
    }
    [milestone] = areas["project_milestones"].rows
    assert (milestone["Milestone"], milestone["Evidence note"]) == (
        "Prototype built",
        "Photos of the kiosk.",
    )
    review, score = areas["project_reviews"].rows
    assert (review["Record"], review["Project title"], review["Comment"]) == (
        "Review",
        "Water tanks",
        "Clear need.",
    )
    assert (score["Record"], score["Criterion"], score["Score"], score["Comment"]) == (
        "Score",
        "Problem and need",
        4,
        "Well argued.",
    )
    assert list(review) == list(score)
    assert "Reviewer's view." not in str(areas["project_reviews"].rows)


def test_someone_else_has_nothing_of_the_learners_projects_in_their_export(admin):
    world = project_world(admin)
    world.project()
    areas = _areas(Learner.objects.get(user=world.other_learner), admin)
    for key in (
        "projects",
        "project_members",
        "project_milestones",
        "project_evidence",
        "project_reviews",
    ):
        assert areas[key].rows == []


def test_the_access_request_zip_holds_the_evidence_files_the_learner_uploaded(
    admin, media, eager, django_capture_on_commit_callbacks
):
    world = project_world(admin)
    own = world.project(status=ProjectStatus.IN_PROGRESS)
    kiosk = world.milestone(own, title="Kiosk built", due_date=datetime.date(2027, 3, 1))
    uploaded = _evidence(kiosk, world.learner, "kiosk photos.pdf", b"%PDF-1.4 the kiosk")
    theirs = world.project(title="Water tanks", leader=world.other_learner)
    _member(theirs, world.learner, MemberRole.MEMBER)
    tanks = world.milestone(theirs, title="Tanks fitted", due_date=datetime.date(2027, 3, 1))
    _evidence(tanks, world.other_learner, "tanks.pdf", b"%PDF-1.4 someone else's")
    # A file the scanner found infected is gone: its row is listed, with nothing to copy.
    removed = _evidence(kiosk, world.learner, "virus.pdf", b"%PDF-1.4 infected")
    MilestoneEvidence.objects.filter(pk=removed.pk).update(file="")

    with django_capture_on_commit_callbacks(execute=True):
        access_request = access_request_create(
            learner=Learner.objects.get(user=world.learner), actor=admin
        )
    access_request.refresh_from_db()
    with default_storage.open(access_request.result_file_path, "rb") as stored:
        archive = zipfile.ZipFile(io.BytesIO(stored.read()))

    first, second = json.loads(archive.read("project_evidence.json"))
    assert (first["Evidence"], first["Project title"], first["Milestone"]) == (
        uploaded.pk,
        "Solar kiosks for taxi ranks",
        "Kiosk built",
    )
    assert (first["File name"], first["Size (bytes)"]) == ("kiosk photos.pdf", 18)
    assert first["Uploaded"]
    assert first["In this export"] == f"project_evidence/{uploaded.pk}-kiosk_photos.pdf"
    assert archive.read(first["In this export"]) == b"%PDF-1.4 the kiosk"
    assert (second["File name"], second["In this export"]) == ("virus.pdf", "")
    assert [name for name in archive.namelist() if name.startswith("project_evidence/")] == [
        first["In this export"]
    ]


def test_a_project_is_only_the_learners_unless_someone_else_proposed_led_or_worked_on_it(
    admin,
):
    world = project_world(admin)
    world.project(title="Alone")
    mentored = world.project(title="Mentored")
    _member(mentored, world.organisation_member, MemberRole.MENTOR)
    with_member = world.project(title="With a member")
    _member(with_member, world.other_learner, MemberRole.MEMBER, left=datetime.date(2027, 2, 1))
    handed_over = world.project(title="Handed over", leader=world.other_learner)
    _member(handed_over, world.learner, MemberRole.MEMBER)
    world.project(title="Someone else's", leader=world.other_learner)
    only = set(projects_only_of(world.learner.pk).values_list("title", flat=True))
    assert only == {"Alone", "Mentored"}


@pytest.fixture
def projects_of_old_graduate(graduate, admin, institution, media):
    made = graduate_make(graduate, admin)
    world = project_world(admin)
    user = made.enrollment.user
    alone = world.project(
        title=f"{FIRST_NAME}'s spaza shop",
        leader=user,
        status=ProjectStatus.COMPLETED,
        description=f"{FIRST_NAME} runs a shop from home.",
        problem_statement="My family's income.",
    )
    _member(alone, world.organisation_member, MemberRole.MENTOR)
    world.milestone(
        alone,
        title="Stock bought",
        due_date=datetime.date(2027, 3, 1),
        status=MilestoneStatus.COMPLETED,
        description="With my savings.",
        evidence_note=f"{FIRST_NAME}'s receipts.",
        evidence_link="https://example.org/receipts",
    )
    made.alone_evidence = _evidence(
        ProjectMilestone.objects.get(project=alone),
        user,
        f"{FIRST_NAME} receipts.pdf",
        b"%PDF-1.4 receipts",
    ).file.name
    ProjectStatusChange.objects.create(
        project=alone,
        round=1,
        from_status=ProjectStatus.IN_REVIEW,
        to_status=ProjectStatus.REJECTED,
        reason=f"{FIRST_NAME} should show the costs.",
        panel_scores={"criteria": {"Impact": {"mean": 3, "count": 1}}},
        proposal={"title": f"{FIRST_NAME}'s stock app", "description": "Sell airtime."},
    )
    _reviewed(
        alone,
        world.reviewers[0],
        world.criteria[0],
        comments=f"{FIRST_NAME} knows her market.",
        comment="Strong.",
    )
    shared = world.project(
        title="Community garden", status=ProjectStatus.COMPLETED, leader=world.other_learner
    )
    _member(shared, user, MemberRole.MEMBER)
    beds = world.milestone(
        shared,
        title="Beds dug",
        due_date=datetime.date(2027, 3, 1),
        status=MilestoneStatus.COMPLETED,
        evidence_note="Photos of the beds.",
    )
    made.shared_evidence = _evidence(beds, user, "beds.pdf", b"%PDF-1.4 beds").file.name
    _reviewed(
        shared, world.reviewers[1], world.criteria[1], comments="A good team.", comment="Feasible."
    )
    cohort_ended(made.cohort, years_ago=12)
    made.alone, made.shared = alone, shared
    return made


def test_anonymising_erases_the_text_of_projects_only_the_learner_had(
    projects_of_old_graduate, super_admin, django_capture_on_commit_callbacks
):
    made = projects_of_old_graduate
    with django_capture_on_commit_callbacks(execute=True):
        for kind in (
            JobKind.ARCHIVE_COHORTS,
            JobKind.ANONYMISE_LEARNERS,
            JobKind.PURGE_SEALED_RECORDS,
        ):
            assert not job_run(actor=super_admin, kind=kind, dry_run=False).error_message

    assert traces([FIRST_NAME]) == []
    alone = InnovationProject.objects.get(pk=made.alone.pk)
    assert (alone.title, alone.description, alone.problem_statement) == (ERASED, ERASED, ERASED)
    assert alone.objectives == ERASED  # the world's default text
    assert (alone.status, alone.round, alone.kind) == (ProjectStatus.COMPLETED, 1, "venture")
    milestone = ProjectMilestone.objects.get(project=alone)
    assert (milestone.title, milestone.description, milestone.evidence_note) == (
        "Stock bought",
        ERASED,
        ERASED,
    )
    assert milestone.evidence_link == ""
    assert milestone.status == MilestoneStatus.COMPLETED
    assert not MilestoneEvidence.objects.filter(milestone=milestone).exists()
    assert not default_storage.exists(made.alone_evidence)
    change = ProjectStatusChange.objects.get(project=alone)
    assert change.reason == ERASED
    assert change.proposal == {}
    assert change.panel_scores == {"criteria": {"Impact": {"mean": 3, "count": 1}}}
    assignment = ReviewAssignment.objects.get(project=alone)
    assert assignment.comments == ERASED
    assert ReviewScore.objects.get(assignment=assignment).comment == ERASED
    assert ReviewScore.objects.get(assignment=assignment).score == 4
    assert ProjectMember.objects.filter(project=alone).count() == 2

    shared = InnovationProject.objects.get(pk=made.shared.pk)
    assert shared.title == "Community garden"
    assert shared.problem_statement == "Commuters' phones run flat."
    assert ProjectMilestone.objects.get(project=shared).evidence_note == "Photos of the beds."
    assert default_storage.exists(made.shared_evidence)
    assert MilestoneEvidence.objects.filter(milestone__project=shared).count() == 1
    shared_review = ReviewAssignment.objects.get(project=shared)
    assert shared_review.comments == "A good team."
    assert ProjectMember.objects.filter(project=shared, user=made.enrollment.user).exists()

    event = AuditEvent.objects.get(action="projects.personal_data_erased")
    assert event.entity_id == str(made.learner.pk)
    assert (event.new_values["projects"], event.new_values["milestone_evidence"]) == (1, 1)
    assert FIRST_NAME not in str(event.new_values)


def test_a_dry_run_leaves_the_projects_alone(
    projects_of_old_graduate, super_admin, django_capture_on_commit_callbacks
):
    made = projects_of_old_graduate
    with django_capture_on_commit_callbacks(execute=True):
        job_run(actor=super_admin, kind=JobKind.ARCHIVE_COHORTS, dry_run=False)
        job_run(actor=super_admin, kind=JobKind.ANONYMISE_LEARNERS, dry_run=True)
    assert InnovationProject.objects.get(pk=made.alone.pk).title == f"{FIRST_NAME}'s spaza shop"
    assert default_storage.exists(made.alone_evidence)
