from django.contrib import admin

from accounts.models import User
from tenants.admin import platform_admin_site


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Read-mostly: people are managed through the People page, whose services audit changes."""

    list_display = ["email", "full_name", "role_labels", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["email", "role_labels", "password", "last_login", "date_joined"]
    exclude = ["groups", "user_permissions", "roles"]


# The platform's operators, in the public schema's copy of the table.
platform_admin_site.register(User, UserAdmin)
