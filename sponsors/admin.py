from django.contrib import admin

from sponsors.models import Sponsor


@admin.register(Sponsor)
class SponsorAdmin(admin.ModelAdmin):
    list_display = ["company_name", "contact_name", "contact_email", "created_at"]
    search_fields = ["company_name", "contact_name", "contact_email"]
