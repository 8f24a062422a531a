"""Attendance rates per course run and per learner, and assessment outcomes per run, against
a run of known registers and results."""

# ruff: noqa: F811 (the fixture tests.reports.builtin_world.reported is imported by name)

import pytest
from django.utils import timezone

from delivery.models import CourseRun
from reports.registry import report_for
from tests.reports.builtin_world import reported  # noqa: F401 (a fixture for these tests)
from tests.reports.support import report_run

pytestmark = pytest.mark.django_db


def test_attendance_per_run_counts_every_learners_marks(reported):
    rows = report_run(report_for("attendance"), {"level": "run"})
    assert rows == [
        {
            "cohort": "Alpha 2027",
            "course_run": "BA101 Business numeracy",
            "learner": "",
            "present": 3,
            "late": 1,
            "absent": 1,
            "excused": 1,
            "rate": 80.0,
        }
    ]


def test_attendance_per_learner_in_each_run(reported):
    rows = report_run(report_for("attendance"), {"level": "learner", "cohort": reported.alpha.pk})
    assert [
        (row["learner"], row["present"], row["late"], row["absent"], row["excused"], row["rate"])
        for row in rows
    ] == [
        ("Anna Botha", 0, 0, 0, 0, None),
        ("Sipho Mokoena", 2, 0, 0, 1, 100.0),
        ("Thandi Zulu", 1, 1, 1, 0, 66.7),
    ]
    assert report_run(report_for("attendance"), {"level": "learner", "year": 2026}) == []


def test_assessment_outcomes_per_run(reported):
    report = report_for("assessment_outcomes")
    expected = {
        "cohort": "Alpha 2027",
        "course_run": "BA101 Business numeracy",
        "moderated_at": None,
        "learners": 2,
        "competent": 1,
        "not_yet_competent": 0,
        "awaiting": 1,
        "dropped": 1,
        "passes": 2,
        "fails": 1,
        "voids": 0,
        "average_score": 75.0,
    }
    assert report_run(report, {}) == [expected]
    moderated_at = timezone.now()
    CourseRun.objects.filter(pk=reported.run.pk).update(moderated_at=moderated_at)
    assert report_run(report, {"cohort": reported.alpha.pk}) == [
        {**expected, "moderated_at": moderated_at, "not_yet_competent": 1, "awaiting": 0}
    ]
