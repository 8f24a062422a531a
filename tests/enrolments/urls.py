"""The institution's URLs with the student portal mounted at my/, as config.urls_tenant will
have it; used by these tests for as long as config.urls_tenant does not include it itself."""

from django.urls import include, path

from config import urls_tenant

handler404 = urls_tenant.handler404
handler403 = urls_tenant.handler403
handler500 = urls_tenant.handler500

urlpatterns = list(urls_tenant.urlpatterns)
if not any(getattr(pattern, "namespace", None) == "enrolments" for pattern in urlpatterns):
    urlpatterns.append(path("my/", include("enrolments.urls")))
