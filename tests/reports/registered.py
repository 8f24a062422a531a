"""Reports registered for the tests of the reports framework, whatever the built-in reports
are: a roster whose rows are made from its parameters (with an equity count, suppressed below
the threshold in files), the same behind finance's permission, and one whose rows fail."""

from collections.abc import Iterator, Mapping
from typing import Any

from django import forms

from reports.registry import Column, Parameter, Report, UnknownReport, register, report_for

COLUMNS = (
    Column("name", "Learner"),
    Column("group", "Group"),
    Column("learners", "Learners", kind="int", small_count=True),
)


def roster_rows(parameters: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """`size` rows: Learner 1, 2, ... with counts 1, 2, ... (so 1 to 4 are under the default
    threshold of 5)."""
    for number in range(1, parameters["size"] + 1):
        yield {
            "name": f"Learner {number}",
            "group": parameters["group"] or "All",
            "learners": number,
        }


def roster_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "bar",
        "labels": [row["name"] for row in rows],
        "values": [row["learners"] for row in rows],
    }


PARAMETERS = (
    Parameter(
        "size",
        "Rows",
        lambda: forms.IntegerField(min_value=0, max_value=100_000),
        help_text="How many rows.",
    ),
    Parameter("group", "Group", lambda: forms.CharField(required=False, max_length=40)),
)


def failing_rows(parameters: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield {"name": "Learner 1", "group": "All", "learners": 1}
    raise RuntimeError("the database went away at /srv/secret/path.py line 12")


def _registered(report: Report) -> Report:
    """Register once per process (test modules import this module more than once)."""
    try:
        return report_for(report.key)
    except UnknownReport:
        return register(report)


ROSTER = _registered(
    Report(
        key="test_roster",
        title="Test roster",
        description="Rows made from the parameters.",
        permission="reports.view_reports",
        parameters=PARAMETERS,
        columns=COLUMNS,
        rows=roster_rows,
        count=lambda parameters: parameters["size"],
        area="Testing",
        chart=roster_chart,
    )
)
FINANCE_ROSTER = _registered(
    Report(
        key="test_finance_roster",
        title="Test finance roster",
        description="The roster, for people who may see finance.",
        permission="finance.view_finance",
        parameters=PARAMETERS,
        columns=COLUMNS,
        rows=roster_rows,
        area="Testing",
    )
)
FAILING = _registered(
    Report(
        key="test_failing",
        title="Test failing",
        description="Its rows fail after the first.",
        permission="reports.view_reports",
        parameters=(),
        columns=COLUMNS,
        rows=failing_rows,
        area="Testing",
    )
)
