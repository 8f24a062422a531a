"""An institution's site (its own schema)."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from tenants import views as tenant_views

handler404 = "config.views.page_not_found"
handler403 = "config.views.permission_denied"
handler500 = "config.views.server_error"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("cohorts/", include("cohorts.urls")),
    path("cohorts/<int:cohort_pk>/import/", include("cohorts.import_urls")),
    path("cohorts/<int:cohort_pk>/export/", include("enrolments.export_urls")),
    path("cohorts/<int:cohort_pk>/countersign/", include("enrolments.countersign_urls")),
    path("my/", include("enrolments.urls")),
    path("profile/", include("learners.profile_urls")),
    path("agreements/", include("signing.urls")),
    path("sign/", include("signing.public_urls")),
    path("sponsors/", include("sponsors.urls")),
    path("sponsor/", include("sponsors.public_urls")),
    path("review/", include("verification.urls")),
    path("learners/", include("learners.urls")),
    path("academics/", include("academics.urls")),
    path("delivery/", include("delivery.urls")),
    path("certificates/", include("delivery.public_urls")),
    path("integrations/", include("integrations.urls")),
    path("placements/", include("placements.urls")),
    path("workplace/", include("workplace.urls")),
    path("partners/", include("partners.urls")),
    path("finance/", include("finance.urls")),
    path("projects/", include("projects.urls")),
    path("reports/", include("reports.urls")),
    path("evidence/", include("reports.evidence_urls")),
    path("data-protection/", include("privacy.urls")),
    path("access-requests/", include("privacy.access_urls")),
    path("settings/", tenant_views.institution_settings, name="institution_settings"),
    path("settings/seal/", tenant_views.institution_seal_upload, name="institution_seal_upload"),
    path("branding/logo/", tenant_views.institution_logo, name="institution_logo"),
    path("django-admin/", admin.site.urls),
]
