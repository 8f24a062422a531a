from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from signing.models import signer_party

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
    # An enrolment's agreement and documents (enrolments.models.AgreementStatus, DocumentsStatus).
    "not_sent": "text-bg-light border",
    "declined": "text-bg-danger",
    "signed": "text-bg-success",
    "revoked": "text-bg-dark",
    "not_uploaded": "text-bg-light border",
    "waiting_review": "text-bg-warning",
    "approved": "text-bg-success",
}

register.filter("signer_party", signer_party)


@register.simple_tag
def state_badge(state: str, label: str) -> SafeString:
    """A coloured badge for a cohort, enrolment or verification state. A tag, not an include:
    the students table renders one per row."""
    return format_html(
        '<span class="badge {}">{}</span>', BADGE_CLASSES.get(state, "text-bg-light"), label
    )


@register.simple_tag
def agreement_status(enrollment: object, *, with_reason: bool = False) -> SafeString:
    """The agreement's badge for one row of the students table (annotations of
    enrolments.selectors.with_table_statuses): who it waits for, who declined it and, for
    those who manage the cohort (`with_reason`), why."""
    status = getattr(enrollment, "agreement_status", "not_sent")
    labels = {
        "not_sent": "Not sent",
        "signed": "Signed",
        "revoked": "Revoked",
        "declined": "Declined",
    }
    if status == "waiting":
        label = (
            f"Waiting for {signer_party(getattr(enrollment, 'latest_agreement_waiting_role', ''))}"
        )
    else:
        label = labels.get(status, status)
    badge = state_badge(status, label)
    if status != "declined":
        return badge
    who = signer_party(getattr(enrollment, "latest_agreement_declined_role", ""))
    reason = getattr(enrollment, "latest_agreement_decline_reason", "") or ""
    if with_reason and reason:
        return format_html(
            '{}<div class="small text-body-secondary text-break">By {}: “{}”</div>',
            badge,
            who,
            reason,
        )
    return format_html('{}<div class="small text-body-secondary">By {}</div>', badge, who)


@register.simple_tag
def documents_status(enrollment: object) -> SafeString:
    """The required documents' badge for one row of the students table, with how many are
    uploaded or waiting (annotations of enrolments.selectors.with_table_statuses)."""
    status = getattr(enrollment, "documents_status", "not_uploaded")
    required = getattr(enrollment, "documents_required", 0)
    labels = {
        "not_uploaded": "Not uploaded",
        "waiting_review": "Waiting for review",
        "rejected": "Rejected",
        "approved": "Approved" if required else "None required",
    }
    badge = state_badge(status, labels.get(status, status))
    if status == "not_uploaded":
        detail = f"{getattr(enrollment, 'documents_uploaded', 0)} of {required} uploaded"
    elif status == "waiting_review":
        detail = f"{getattr(enrollment, 'documents_waiting', 0)} of {required} to review"
    elif status == "rejected":
        detail = f"{getattr(enrollment, 'documents_rejected', 0)} of {required} rejected"
    else:
        return badge
    return format_html('{}<div class="small text-body-secondary">{}</div>', badge, detail)
