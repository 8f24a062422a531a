"""The platform's admin site, for operators on the platform host only (config.urls_public).
Institutions and their domains live in the public schema: an institution's own admin site
(django.contrib.admin's default, config.urls_tenant) must never show them, or any staff
account of one institution would read every other. The apps below tenants add their own
models to it (the platform's operators, its audit trail) in their admin modules."""

from django.contrib import admin
from django_tenants.admin import TenantAdminMixin

from tenants.models import Domain, Institution


class PlatformAdminSite(admin.AdminSite):
    site_header = "Cohortly platform"
    site_title = "Cohortly platform"


platform_admin_site = PlatformAdminSite(name="platform_admin")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Institution, site=platform_admin_site)
class InstitutionAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "code"]
    readonly_fields = ["schema_name", "code", "created_at"]
    inlines = [DomainInline]
