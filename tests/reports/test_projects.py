"""The innovation projects report and the delayed milestones report against known projects:
the exact rows (leader, latest decision's panel mean, milestone counts), each parameter, who
may run them, the exports, and rows read as a stream in queries that do not grow with the
projects."""

import csv
import datetime
import io
import types
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from projects.models import (
    MemberRole,
    MilestoneStatus,
    ProjectMember,
    ProjectStatus,
    ProjectStatusChange,
)
from reports.builtin.projects import panel_mean
from reports.exports import csv_write, xlsx_write
from reports.registry import report_for
from tests.factories import CohortFactory, ProgrammeFactory, UserFactory
from tests.projects.support import project_world
from tests.reports.support import report_run

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
SUBMITTED = timezone.make_aware(datetime.datetime(2027, 2, 1, 10, 0))
DECIDED = timezone.make_aware(datetime.datetime(2027, 2, 20, 15, 0))


def _decision(project, to_status, panel_scores, *, at=DECIDED):
    change = ProjectStatusChange.objects.create(
        project=project,
        round=project.round,
        from_status=ProjectStatus.IN_REVIEW,
        to_status=to_status,
        panel_scores=panel_scores,
    )
    ProjectStatusChange.objects.filter(pk=change.pk).update(at=at)
    return change


@pytest.fixture
def portfolio(admin):
    world = project_world(admin)
    kiosks = world.project(
        status=ProjectStatus.IN_PROGRESS,
        round=2,
        submitted_at=SUBMITTED,
        decided_at=DECIDED,
        start_date=datetime.date(2027, 3, 1),
        end_date=datetime.date(2027, 9, 30),
    )
    # An earlier round was rejected; the latest decision (approval) is the one reported.
    _decision(
        kiosks,
        ProjectStatus.REJECTED,
        {"criteria": {"Impact": {"mean": 1, "count": 2}}},
        at=DECIDED - datetime.timedelta(days=10),
    )
    _decision(
        kiosks,
        ProjectStatus.APPROVED,
        {
            "round": 2,
            "decision": "approve",
            "criteria": {
                "Problem and need": {"mean": 4, "count": 2},
                "Feasibility": {"mean": 3.5, "count": 2},
                "Impact": {"mean": 8, "count": 2},
            },
            "reviewers": {"Rami Reviewer": {"total": 16, "submitted": True}},
        },
    )
    world.milestone(
        kiosks, title="Site agreed", due_date=datetime.date(2027, 3, 15), status="completed"
    )
    world.milestone(
        kiosks,
        title="Prototype built",
        due_date=TODAY - datetime.timedelta(days=12),
        status=MilestoneStatus.DELAYED,
    )
    world.milestone(kiosks, title="Second kiosk", due_date=TODAY + datetime.timedelta(days=30))
    # The leader changed: only the current one is reported.
    ProjectMember.objects.filter(project=kiosks, role=MemberRole.LEADER).update(
        left_date=datetime.date(2027, 2, 1)
    )
    ProjectMember.objects.create(
        project=kiosks,
        user=world.other_learner,
        role=MemberRole.LEADER,
        joined_date=datetime.date(2027, 2, 1),
    )
    elsewhere = ProgrammeFactory(name="Hospitality NQF 2")
    garden = world.project(
        title="A school food garden",
        kind="research",
        programme=elsewhere,
        cohort=CohortFactory(name="Hospitality 2027", programme=elsewhere, active=True),
    )
    world.milestone(
        garden,
        title="Beds dug",
        due_date=TODAY - datetime.timedelta(days=3),
        status=MilestoneStatus.DELAYED,
    )
    world.kiosks, world.garden, world.elsewhere = kiosks, garden, elsewhere
    return world


def test_one_row_per_project_with_its_leader_decision_and_milestones(portfolio):
    rows = report_run(report_for("innovation_projects"))
    assert rows == [
        {
            "title": "A school food garden",
            "kind": "Research idea",
            "programme": "Hospitality NQF 2",
            "cohort": "Hospitality 2027",
            "leader": "Thandi Nkosi",
            "status": "Draft",
            "submitted_on": None,
            "decided_on": None,
            "rounds": 0,
            "panel_mean": None,
            "milestones_total": 1,
            "milestones_completed": 0,
            "milestones_delayed": 1,
            "start_date": None,
            "end_date": None,
        },
        {
            "title": "Solar kiosks for taxi ranks",
            "kind": "Student venture",
            "programme": "Business Practice NQF 4",
            "cohort": "Business Practice 2027",
            "leader": "Pieter Other",
            "status": "In progress",
            "submitted_on": datetime.date(2027, 2, 1),
            "decided_on": datetime.date(2027, 2, 20),
            "rounds": 2,
            "panel_mean": Decimal("5.17"),
            "milestones_total": 3,
            "milestones_completed": 1,
            "milestones_delayed": 1,
            "start_date": datetime.date(2027, 3, 1),
            "end_date": datetime.date(2027, 9, 30),
        },
    ]


def test_each_parameter_narrows_the_projects(portfolio):
    report = report_for("innovation_projects")

    def titles(data):
        return [row["title"] for row in report_run(report, data)]

    kiosks, garden = "Solar kiosks for taxi ranks", "A school food garden"
    assert titles({"status": ProjectStatus.IN_PROGRESS}) == [kiosks]
    assert titles({"status": ProjectStatus.APPROVED}) == []
    assert titles({"programme": portfolio.elsewhere.pk}) == [garden]
    assert titles({"cohort": portfolio.cohort.pk}) == [kiosks]
    assert titles({"submitted_from": "2027-02-01", "submitted_to": "2027-02-01"}) == [kiosks]
    assert titles({"submitted_from": "2027-02-02"}) == []
    assert titles({"submitted_to": "2027-01-31"}) == []


@pytest.mark.parametrize(
    ("panel_scores", "mean"),
    [
        ({"criteria": {"A": {"mean": 4}, "B": {"mean": 3}}}, Decimal("3.50")),
        ({"criteria": [{"name": "A", "mean": 2.25}, {"name": "B", "mean": 1}]}, Decimal("1.63")),
        ({"A": {"mean": 4, "count": 1}, "round": 1, "decision": "approve"}, Decimal("4.00")),
        ({"criteria": {"A": {"mean": None}, "B": {"mean": "high"}, "C": {"mean": True}}}, None),
        ({"criteria": {}, "reviewers": {"Rami": {"total": 12}}}, None),
        ({"criteria": "four"}, None),
        ({}, None),
        (None, None),
        ([1, 2], None),
    ],
)
def test_the_panel_mean_is_read_from_whatever_the_decision_kept(panel_scores, mean):
    assert panel_mean(panel_scores) == mean


def test_a_project_never_decided_or_decided_without_scores_has_no_panel_mean(portfolio):
    _decision(portfolio.garden, ProjectStatus.REJECTED, {})
    rows = report_run(report_for("innovation_projects"), {"programme": portfolio.elsewhere.pk})
    assert rows[0]["panel_mean"] is None


def test_rows_stream_in_queries_that_do_not_grow_with_the_projects(portfolio):
    report = report_for("innovation_projects")
    params = {"status": "", "programme": None, "cohort": None}
    assert isinstance(report.rows(params), types.GeneratorType)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            rows = list(report.rows(params))
        return len(captured), len(rows)

    few = queries()
    for number in range(12):
        project = portfolio.project(
            title=f"Project {number}",
            leader=portfolio.learner if number % 2 else portfolio.other_learner,
            status=ProjectStatus.APPROVED,
        )
        _decision(project, ProjectStatus.APPROVED, {"criteria": {"A": {"mean": number}}})
        portfolio.milestone(project, due_date=TODAY, status=MilestoneStatus.DELAYED)
    many = queries()
    assert (few[1], many[1]) == (2, 14)
    assert few[0] == many[0]
    delayed = report_for("delayed_milestones")
    with CaptureQueriesContext(connection) as captured:
        assert len(list(delayed.rows({}))) == 14
    assert len(captured) == few[0]


def test_delayed_milestones_one_row_each_with_days_late(portfolio):
    report = report_for("delayed_milestones")
    assert report_run(report) == [
        {
            "project": "Solar kiosks for taxi ranks",
            "milestone": "Prototype built",
            "due_date": TODAY - datetime.timedelta(days=12),
            "days_late": 12,
            "leader": "Pieter Other",
            "programme": "Business Practice NQF 4",
        },
        {
            "project": "A school food garden",
            "milestone": "Beds dug",
            "due_date": TODAY - datetime.timedelta(days=3),
            "days_late": 3,
            "leader": "Thandi Nkosi",
            "programme": "Hospitality NQF 2",
        },
    ]
    assert [row["milestone"] for row in report_run(report, {"cohort": portfolio.cohort.pk})] == [
        "Prototype built"
    ]
    elsewhere = report_run(report, {"programme": portfolio.elsewhere.pk})
    assert [row["milestone"] for row in elsewhere] == ["Beds dug"]
    assert report.count is not None
    assert report.count({"programme": portfolio.elsewhere}) == 1


def test_the_exports_write_every_column(portfolio):
    report = report_for("innovation_projects")
    out = io.BytesIO()
    assert csv_write(iter(report_run(report)), report.columns, out, threshold=5) == 2
    lines = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert lines[0][:6] == ["Project", "Kind", "Programme", "Cohort", "Leader", "Status"]
    assert lines[0][9] == "Panel mean score"
    kiosks = lines[2]
    assert (kiosks[0], kiosks[4], kiosks[9], kiosks[10:13]) == (
        "Solar kiosks for taxi ranks",
        "Pieter Other",
        "5.17",
        ["3", "1", "1"],
    )
    assert lines[1][9] == ""
    book = io.BytesIO()
    xlsx_write(iter(report_run(report)), report.columns, book, title=report.title, threshold=5)
    book.seek(0)
    sheet = openpyxl.load_workbook(book).active
    assert sheet["A3"].value == "Solar kiosks for taxi ranks"
    assert sheet["J3"].value == pytest.approx(5.17)


@pytest.mark.parametrize("key", ["innovation_projects", "delayed_milestones"])
def test_only_those_who_manage_projects_run_the_reports(portfolio, client_of, key):
    url = reverse("reports:report", args=[key])
    ops = UserFactory(roles=[SystemRole.OPS_ADMIN])
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    assert client_of(ops).get(url).status_code == 404
    assert client_of(trainer).get(url).status_code == 404
    assert client_of(portfolio.learner).get(url).status_code == 404
    assert (
        "Innovation projects" not in client_of(ops).get(reverse("reports:index")).content.decode()
    )
    admin = client_of(portfolio.admin)
    assert admin.get(url).status_code == 200
    shown = admin.post(url, {"action": "preview", "format": "csv"})
    assert shown.status_code == 200
    assert "Solar kiosks for taxi ranks" in shown.content.decode()
