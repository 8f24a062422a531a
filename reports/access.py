"""Who may run a report and see its results: reports.view_reports, and the report's own
permission (a finance report needs finance's), so that reports never show more than the
person's other pages do. Saving and scheduling definitions needs reports.manage_reports."""

from accounts.models import User
from reports.registry import Report

VIEW_REPORTS = "reports.view_reports"
MANAGE_REPORTS = "reports.manage_reports"


def may_run(user: User, report: Report) -> bool:
    """Whether `user` may run `report` and download what it produced."""
    return user.may(VIEW_REPORTS) and user.may(report.permission)
