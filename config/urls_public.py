"""The platform's own site (the public schema): landing page, find my institution, operators."""

from django.urls import include, path
from django.views.generic import RedirectView

from tenants import views as tenant_views
from tenants.admin import platform_admin_site

handler404 = "config.views.page_not_found"
handler403 = "config.views.permission_denied"
handler500 = "config.views.server_error"

urlpatterns = [
    path("", tenant_views.landing, name="landing"),
    path("find-institution/", tenant_views.find_institution, name="find_institution"),
    path("accounts/", include("accounts.urls")),
    path("operator/", include("tenants.urls")),
    # Where sign-in lands on the platform site (LOGIN_REDIRECT_URL): the operator's dashboard.
    path("home/", RedirectView.as_view(pattern_name="tenants:operator_dashboard"), name="home"),
    path("django-admin/", platform_admin_site.urls),
]
