"""Cohort dashboard benchmark: its server time with 2,000 enrolments against a bare view on the
same stack, and its query count at two sizes.

The bare view goes through everything a signed-in page does (tenant routing, every middleware,
the session and its idle-timeout save, the user, the institution's layout with its navigation)
and shows nothing in it; it is added to the institution URLs in this process only. The ratio is
thus what the dashboard's own work (its queries and its tables) costs over the fixed price of
any signed-in page.

    .venv/bin/python bench/dashboard.py [--requests 40] [--show-queries]

Runs in a scratch database of its own (see scratch.py). Requests go through Django's test
client in this process, so the figures are server time without the network. stdout ends with:

    dashboard_median_s: <float>
    bare_median_s: <float>
    ratio: <dashboard/bare>
    queries_small: <queries of the dashboard with 20 enrolments>
    queries_large: <queries with 2,000>

The two query counts must be equal and the ratio at most 5.
"""

import argparse
import statistics
import sys
import time

from scratch import log, run_benchmark

SMALL, LARGE = 20, 2000


def enrol(cohort, count: int) -> None:
    """Bulk set-up (not what is measured): students and their enrolments."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import SystemRole, User
    from accounts.services import system_role_give
    from enrolments.models import CohortEnrollment

    unusable = make_password(None)
    students = User.objects.bulk_create(
        User(
            email=f"student{index}@cohort{cohort.pk}.example",
            full_name=f"Student {index:05d}",
            password=unusable,
        )
        for index in range(count)
    )
    system_role_give(users=students, key=SystemRole.STUDENT, granted_by=None)
    CohortEnrollment.objects.bulk_create(
        CohortEnrollment(cohort=cohort, user=student) for student in students
    )


BARE_PATH = "/bench-bare/"


def install_bare_view() -> None:
    from django.shortcuts import render
    from django.urls import clear_url_caches, path

    import config.urls_tenant

    def bare(request):
        return render(request, "base.html")

    config.urls_tenant.urlpatterns.append(path(BARE_PATH.strip("/") + "/", bare))
    clear_url_caches()


def median_seconds(client, paths: list[str], requests: int) -> list[float]:
    """Median time of each path, requested in turns so that both see the same machine load."""
    times: list[list[float]] = [[] for _ in paths]
    for _ in range(requests):
        for index, path in enumerate(paths):
            started = time.perf_counter()
            response = client.get(path)
            times[index].append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
    return [statistics.median(samples) for samples in times]


def measure(requests: int, show_queries: bool) -> dict[str, float | int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from cohorts.models import DocumentType
    from cohorts.services import cohort_activate, cohort_create, cohort_record_admin_signature
    from signing.models import AgreementTemplate
    from tenants.db import tenant_connection
    from tenants.services import institution_provision
    from tenants.sites import institution_domain

    institution = institution_provision(
        name="Bench College", code="bench", admin_email="admin@bench.example"
    )
    tenant_connection.set_tenant(institution)
    admin = User.objects.get(email="admin@bench.example")
    admin.set_password("bench-password-123")
    admin.save()

    def cohort(name: str, students: int):
        created = cohort_create(
            actor=admin,
            name=name,
            program_type="learnership",
            start_date="2027-02-01",
            end_date="2027-11-30",
            main_template=AgreementTemplate.objects.first(),
            required_document_types=list(DocumentType.objects.all()[:2]),
        )
        cohort_record_admin_signature(cohort=created, actor=admin, signature="Admin")
        cohort_activate(cohort=created, actor=admin)
        enrol(created, students)
        return created

    small, large = cohort("Small", SMALL), cohort("Large", LARGE)
    log(f"cohorts ready: {SMALL} and {LARGE} enrolments")

    install_bare_view()
    client = Client(HTTP_HOST=institution_domain(institution.code))
    client.force_login(admin)
    dashboard, bare = f"/cohorts/{large.pk}/", BARE_PATH
    for path in (dashboard, bare, f"/cohorts/{small.pk}/"):
        client.get(path)  # warm caches and connections

    query_counts = {}
    for label, target in (("queries_small", small), ("queries_large", large)):
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/cohorts/{target.pk}/")
        query_counts[label] = len(queries.captured_queries)
        if show_queries:
            for query in queries.captured_queries:
                log(f"    {query['time']} {query['sql'][:150]}")

    dashboard_median, bare_median = median_seconds(client, [dashboard, bare], requests)
    log(f"dashboard {dashboard_median * 1000:.1f} ms, bare {bare_median * 1000:.1f} ms")
    return {
        "dashboard_median_s": dashboard_median,
        "bare_median_s": bare_median,
        "ratio": dashboard_median / bare_median,
        **query_counts,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--show-queries", action="store_true", help="log the dashboard's SQL")
    args = parser.parse_args()
    return run_benchmark("dashboard", lambda: measure(args.requests, args.show_queries))


if __name__ == "__main__":
    sys.exit(main())
