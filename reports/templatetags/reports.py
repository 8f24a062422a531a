from django import template

from reports.selectors import report_title as title_of

register = template.Library()


@register.filter
def report_title(key: str) -> str:
    """The title of the report a definition or an execution names by its key."""
    return title_of(key)
