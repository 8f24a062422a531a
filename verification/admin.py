from django.contrib import admin

from audit.admin import ReadOnlyAdminMixin
from verification.models import DocumentVerification


@admin.register(DocumentVerification)
class DocumentVerificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: decisions are made on the review pages and never changed afterwards."""

    list_display = ["created_at", "action", "document_type", "cohort_enrollment", "admin"]
    list_filter = ["action", "document_type"]
    list_select_related = [
        "document_type",
        "cohort_enrollment__user",
        "cohort_enrollment__cohort",
        "admin",
    ]
    raw_id_fields = ["cohort_enrollment", "document", "admin"]
