from django.contrib import admin

from integrations.models import SyncAttempt, SyncJob


class SyncAttemptInline(admin.TabularInline):
    model = SyncAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "outcome", "http_status", "error", "started_at", "finished_at"]


@admin.register(SyncJob)
class SyncJobAdmin(admin.ModelAdmin):
    """Read-only: jobs change only through integrations.services (and its pages)."""

    list_display = ["id", "job_type", "entity_type", "entity_id", "status", "attempts"]
    list_filter = ["status", "job_type"]
    inlines = [SyncAttemptInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
