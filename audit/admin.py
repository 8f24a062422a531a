from django.contrib import admin

from audit.models import AuditEvent
from tenants.admin import platform_admin_site


class ReadOnlyAdminMixin:
    """For append-only records: the admin shows them and changes nothing."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor_email", "action", "entity_type", "entity_id"]
    list_filter = ["action", "entity_type"]
    search_fields = ["entity_id", "actor_email", "correlation_id"]


# The platform's own audit trail, in the public schema.
platform_admin_site.register(AuditEvent, AuditEventAdmin)
