from django.contrib import admin
from django_tenants.admin import TenantAdminMixin

from tenants.models import Domain, Institution


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Institution)
class InstitutionAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "code"]
    readonly_fields = ["schema_name", "code", "created_at"]
    inlines = [DomainInline]
