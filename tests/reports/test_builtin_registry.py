"""Every built-in report is registered with what a page needs: a permission that exists, a
parameters form that renders, columns, and rows that run on an institution with no data at
all; a value a report does not allow is refused by its form with a message."""

import pytest
from django.contrib.auth.models import Permission

from reports.registry import report_for, reports_all
from tests.reports.support import report_run

pytestmark = pytest.mark.django_db

BUILT_IN = {
    "cohort_progress",
    "equity",
    "attendance",
    "assessment_outcomes",
    "document_review",
    "placements_by_organisation",
    "sync_status",
    "aged_debtors",
    "income_by_programme",
    "commissions_owed",
    "innovation_projects",
    "delayed_milestones",
}


# Every report the application registers (reports.builtin), not those the framework's own
# tests register.
APPLICATION_REPORTS = sorted(
    report.key for report in reports_all() if report.rows.__module__.startswith("reports.builtin")
)


def test_every_built_in_report_is_registered():
    assert set(APPLICATION_REPORTS) == BUILT_IN


@pytest.mark.parametrize("key", APPLICATION_REPORTS)
def test_a_report_renders_its_form_and_runs_on_an_empty_institution(institution, key):
    report = report_for(key)
    app_label, codename = report.permission.split(".")
    assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists()
    html = report.parameters_form().as_div()
    for parameter in report.parameters:
        assert f'name="{parameter.name}"' in html
    assert len(set(report.column_keys)) == len(report.columns)
    assert report_run(report) == []


@pytest.mark.parametrize(
    ("key", "data", "field", "message"),
    [
        ("equity", {"group_by": "race"}, "group_by", "Select a valid choice."),
        ("equity", {"group_by": "cohort", "year": "1899"}, "year", "Choose a year from 2000."),
        ("cohort_progress", {"cohort": "999999"}, "cohort", "Select a valid choice."),
        ("cohort_progress", {"state": "lost"}, "state", "Select a valid choice."),
        ("attendance", {"level": ""}, "level", "This field is required."),
        (
            "document_review",
            {"group_by": "cohort", "reviewed_from": "31/31/2027"},
            "reviewed_from",
            "Enter a valid date.",
        ),
        (
            "income_by_programme",
            {"financial_year": "next"},
            "financial_year",
            "Enter a whole number.",
        ),
    ],
)
def test_a_value_the_report_does_not_allow_is_refused(institution, key, data, field, message):
    form = report_for(key).parameters_form(data)
    assert not form.is_valid()
    assert message in form.errors[field][0]
