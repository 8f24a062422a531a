from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

BADGE_CLASSES = {
    "draft": "text-bg-secondary",
    "active": "text-bg-success",
    "completed": "text-bg-primary",
    "cancelled": "text-bg-dark",
    "waiting": "text-bg-secondary",
    "in_progress": "text-bg-info",
    "complete": "text-bg-success",
    "withdrawn": "text-bg-dark",
    "pending": "text-bg-secondary",
    "verified": "text-bg-success",
    "rejected": "text-bg-danger",
}


@register.simple_tag
def state_badge(state: str, label: str) -> SafeString:
    """A coloured badge for a cohort, enrolment or verification state. A tag, not an include:
    the students table renders one per row."""
    return format_html(
        '<span class="badge {}">{}</span>', BADGE_CLASSES.get(state, "text-bg-light"), label
    )
