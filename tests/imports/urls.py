"""The institution's URLs with the import pages included where config.urls_tenant includes
them, for tests that run before (or without) that wiring. Whatever urls_tenant already
includes is used as it is."""

from django.http import HttpResponse
from django.urls import include, path

from config import urls_tenant

handler404 = urls_tenant.handler404
handler403 = urls_tenant.handler403
handler500 = urls_tenant.handler500

_namespaces = {getattr(pattern, "namespace", None) for pattern in urls_tenant.urlpatterns}

urlpatterns = list(urls_tenant.urlpatterns)
if "cohorts" not in _namespaces:
    urlpatterns.append(path("cohorts/", include("cohorts.urls")))
if "cohort_import" not in _namespaces:
    urlpatterns.append(path("cohorts/<int:cohort_pk>/import/", include("cohorts.import_urls")))
if "enrolments" not in _namespaces:
    try:
        urlpatterns.append(path("enrolments/", include("enrolments.urls")))
    except ImportError:
        # The student portal is not there yet: only its address is needed, for e-mails.
        urlpatterns.append(
            path(
                "enrolments/",
                include(
                    (
                        [path("<int:pk>/", lambda request, pk: HttpResponse(), name="detail")],
                        "enrolments",
                    )
                ),
            )
        )
