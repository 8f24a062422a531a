from django.contrib import admin

from verification.models import DocumentVerification


@admin.register(DocumentVerification)
class DocumentVerificationAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
