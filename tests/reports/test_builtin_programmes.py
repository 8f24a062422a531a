"""Cohort progress and the equity breakdown against a world of known learners: the exact rows,
the groupings, the chart, the CSV export suppressing small counts, and rows read as a stream
in a number of queries that does not grow with the learners."""

# ruff: noqa: F811 (the fixture tests.reports.builtin_world.reported is imported by name)

import csv
import io
import types

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.exports import csv_write
from reports.registry import report_for
from tests.reports.builtin_world import reported  # noqa: F401 (a fixture for these tests)
from tests.reports.support import learner_enrol, report_run

pytestmark = pytest.mark.django_db


def test_cohort_progress_shows_each_learner_of_the_cohort(reported):
    rows = report_run(report_for("cohort_progress"), {"cohort": reported.alpha.pk})
    assert rows == [
        {
            "learner": "Anna Botha",
            "cohort": "Alpha 2027",
            "state": "Withdrawn",
            "documents": "Not uploaded",
            "agreement": "Not sent",
            "courses_completed": 0,
            "courses_taken": 0,
            "attendance_rate": None,
            "outcome": "",
            "completion_date": None,
        },
        {
            "learner": "Sipho Mokoena",
            "cohort": "Alpha 2027",
            "state": "Complete",
            "documents": "Not uploaded",
            "agreement": "Signed",
            "courses_completed": 1,
            "courses_taken": 1,
            "attendance_rate": 100.0,
            "outcome": "Completed",
            "completion_date": reported.sipho.completion_date,
        },
        {
            "learner": "Thandi Zulu",
            "cohort": "Alpha 2027",
            "state": "In progress",
            "documents": "Not uploaded",
            "agreement": "Not sent",
            "courses_completed": 0,
            "courses_taken": 1,
            "attendance_rate": 66.7,
            "outcome": "",
            "completion_date": None,
        },
    ]


def test_cohort_progress_of_a_programme_a_year_or_a_state(reported):
    report = report_for("cohort_progress")
    of_programme = report_run(report, {"programme": reported.alpha.programme_id})
    assert [(row["cohort"], row["learner"]) for row in of_programme] == [
        ("Alpha 2027", "Anna Botha"),
        ("Alpha 2027", "Sipho Mokoena"),
        ("Alpha 2027", "Thandi Zulu"),
        ("Gamma 2027", "Sipho Mokoena"),
    ]
    assert {row["cohort"] for row in report_run(report, {"year": 2026})} == {"Beta 2026"}
    withdrawn = report_run(report, {"state": "withdrawn"})
    assert [row["learner"] for row in withdrawn] == ["Anna Botha"]
    assert report.count is not None
    assert report.count({"cohort": reported.beta}) == 7


def test_cohort_progress_streams_in_queries_that_do_not_grow_with_its_rows(reported):
    report = report_for("cohort_progress")
    params = {"cohort": reported.beta, "programme": None, "year": None, "state": ""}
    assert isinstance(report.rows(params), types.GeneratorType)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            rows = list(report.rows(params))
        return len(captured), len(rows)

    few = queries()
    for number in range(20):
        learner_enrol(reported.beta, f"More{number}", "Learner", race="indian", gender="male")
    many = queries()
    assert (few[1], many[1]) == (7, 27)
    assert few[0] == many[0]


EQUITY_BY_COHORT = [
    ("Alpha 2027", "African", "Female", "None", 1, 0),
    ("Alpha 2027", "African", "Male", "None", 1, 1),
    ("Beta 2026", "Not recorded", "Not recorded", "Not recorded", 1, 0),
    ("Beta 2026", "African", "Female", "None", 5, 0),
    ("Beta 2026", "Coloured", "Male", "Sight", 1, 0),
    ("Gamma 2027", "African", "Male", "None", 1, 0),
]


def _cells(rows):
    keys = ("group", "race", "gender", "disability", "learners", "completed")
    return [tuple(row[key] for key in keys) for row in rows]


def test_equity_counts_learners_per_cohort_by_race_gender_and_disability(reported):
    rows = report_run(report_for("equity"), {"group_by": "cohort"})
    assert _cells(rows) == EQUITY_BY_COHORT


def test_equity_reads_its_groups_in_queries_that_do_not_grow_with_them(reported):
    params = {"group_by": "cohort", "cohort": None, "programme": None, "year": None}

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            rows = list(report_for("equity").rows(params))
        return len(captured), len(rows)

    few = queries()
    for number in range(10):
        learner_enrol(reported.beta, f"Other{number}", "Learner", race="indian", gender="male")
        learner_enrol(reported.gamma, f"Else{number}", "Learner", race="white", disability="sight")
    many = queries()
    assert (few[1], many[1]) == (len(EQUITY_BY_COHORT), len(EQUITY_BY_COHORT) + 2)
    assert few[0] == many[0]


def test_equity_per_programme_or_year_counts_a_learner_in_two_cohorts_once(reported):
    report = report_for("equity")
    assert _cells(report_run(report, {"group_by": "programme"})) == [
        ("Business Administration", "African", "Female", "None", 1, 0),
        ("Business Administration", "African", "Male", "None", 1, 1),
        ("No programme", "Not recorded", "Not recorded", "Not recorded", 1, 0),
        ("No programme", "African", "Female", "None", 5, 0),
        ("No programme", "Coloured", "Male", "Sight", 1, 0),
    ]
    assert _cells(report_run(report, {"group_by": "year", "year": 2027})) == [
        ("2027", "African", "Female", "None", 1, 0),
        ("2027", "African", "Male", "None", 1, 1),
    ]


def test_equity_leaves_withdrawn_learners_out_unless_asked(reported):
    report = report_for("equity")
    asked = report_run(
        report, {"group_by": "cohort", "cohort": reported.alpha.pk, "include_withdrawn": "on"}
    )
    assert _cells(asked) == [
        ("Alpha 2027", "African", "Female", "None", 1, 0),
        ("Alpha 2027", "African", "Male", "None", 1, 1),
        ("Alpha 2027", "White", "Female", "None", 1, 0),
    ]


def test_equity_chart_stacks_learners_by_population_group_and_gender(reported):
    report = report_for("equity")
    assert report.chart is not None
    chart = report.chart(report_run(report, {"group_by": "cohort"}))
    assert chart == {
        "id": "equity-chart",
        "type": "bar",
        "title": "Learners by population group and gender",
        "labels": ["African", "Coloured", "Not recorded"],
        "datasets": [
            {"label": "Female", "data": [6, 0, 0]},
            {"label": "Male", "data": [2, 1, 0]},
            {"label": "Not recorded", "data": [0, 0, 1]},
        ],
        "stacked": True,
        "unit": "",
    }


def test_equity_export_suppresses_counts_from_one_to_four_but_not_zero_or_five(reported):
    report = report_for("equity")
    out = io.BytesIO()
    written = csv_write(
        iter(report_run(report, {"group_by": "cohort"})), report.columns, out, threshold=5
    )
    assert written == 6
    lines = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert lines[0] == [
        "Group",
        "Population group",
        "Gender",
        "Disability",
        "Learners",
        "Completed",
    ]
    assert [line[4:] for line in lines[1:]] == [
        ["<5", "0"],
        ["<5", "<5"],
        ["<5", "0"],
        ["5", "0"],
        ["<5", "0"],
        ["<5", "0"],
    ]
    inside = io.BytesIO()
    csv_write(
        iter(report_run(report, {"group_by": "cohort"})), report.columns, inside, threshold=None
    )
    assert [line[4] for line in csv.reader(io.StringIO(inside.getvalue().decode("utf-8-sig")))][
        1:
    ] == [
        "1",
        "1",
        "1",
        "5",
        "1",
        "1",
    ]
