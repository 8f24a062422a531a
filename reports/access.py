"""Who may run a report and see its results: reports.view_reports, and the report's own
permission (a finance report needs finance's), so that reports never show more than the
person's other pages do. Saving and scheduling definitions needs reports.manage_reports."""

from accounts.models import User
from reports.models import ReportExecution
from reports.registry import Report, UnknownReport, report_for

VIEW_REPORTS = "reports.view_reports"
MANAGE_REPORTS = "reports.manage_reports"


def may_run(user: User, report: Report) -> bool:
    """Whether `user` may run `report` and download what it produced."""
    return user.may(VIEW_REPORTS) and user.may(report.permission)


def may_see_execution(user: User, execution: ReportExecution) -> bool:
    """Whether `user` may see an execution and download its file: whoever may run its report
    now, the person who asked for it included (someone who lost the report's permission no
    longer sees what they ran with it)."""
    try:
        return user.is_active and may_run(user, report_for(execution.report_key))
    except UnknownReport:
        return False
