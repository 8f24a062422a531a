"""Provisioning benchmark: cloning the migrated template schema against replaying migrations.

    .venv/bin/python bench/provisioning.py [--runs 7] [--no-breakdown] [--keep]

Works in a scratch database of its own (created fresh, dropped at the end), on the server named
by DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cohortly); dev and test databases
are never touched. Celery messages go to an in-memory broker and e-mail to a dummy backend, so
neither Redis nor a mailbox sees anything.

Both paths create the same rows: the Institution and its Domain, a schema with every tenant
table, the "provisioned" audit event and an invited super admin (with its queued e-mail).

- clone: the real service, `tenants.services.institution_provision`, which renames a ready
  clone of the template from the pool (refilled, untimed, before each run, as the refill task
  does after each provisioning in production); `cold_clone_median_s` is the same service with
  the pool empty, cloning the template while the operator waits;
- replay: what django-tenants does without a template: CREATE SCHEMA, then
  `migrate_schemas --tenant --schema=<name>`, then the same audit event and invitation.

The two are interleaved (clone, replay, clone, ...) so that the growing catalogue weighs on
both alike. Progress and a breakdown of where a clone spends its time go to stderr; stdout
ends with:

    clone_median_s: <float>
    replay_median_s: <float>
    ratio: <replay/clone float>

The exit status is non-zero when anything could not be measured.
"""

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections import defaultdict

from scratch import log, run_benchmark

# --- The two ways to provision ------------------------------------------------------------


def provision_by_clone(code: str) -> None:
    from tenants.services import institution_provision

    institution_provision(
        name=f"Bench {code}", code=code, admin_email=f"founder@{code}.example", admin_name="F"
    )


def provision_by_replay(code: str) -> None:
    """django-tenants without a template: save the tenant, create its schema, replay every
    migration in it; then the same audit event and invitation as the real service."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_tenants.utils import tenant_context

    from accounts.models import SystemRole
    from accounts.services import user_invite_in_transaction
    from audit.services import audit_record
    from tenants.db import tenant_connection
    from tenants.models import Domain, Institution
    from tenants.services import schema_name_for_code
    from tenants.sites import institution_domain

    tenant_connection.set_schema_to_public()
    with transaction.atomic():
        institution = Institution(
            name=f"Bench {code}",
            code=code,
            schema_name=schema_name_for_code(code),
            contact_email=f"founder@{code}.example",
        )
        institution.full_clean()
        institution.save()
        Domain.objects.create(domain=institution_domain(code), tenant=institution, is_primary=True)
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{institution.schema_name}"')
    call_command(
        "migrate_schemas",
        tenant=True,
        schema_name=institution.schema_name,
        interactive=False,
        verbosity=0,
    )
    tenant_connection.set_schema_to_public()
    with transaction.atomic():
        audit_record(
            action="institution.provisioned",
            entity=institution,
            new_values={"name": institution.name, "code": code},
        )
        with tenant_context(institution):
            user_invite_in_transaction(
                email=f"founder@{code}.example",
                full_name="F",
                roles=[SystemRole.SUPER_ADMIN],
                actor=None,
            )


def timed(function, code: str) -> float:
    from tenants.db import tenant_connection

    tenant_connection.set_schema_to_public()
    started = time.perf_counter()
    function(code)
    elapsed = time.perf_counter() - started
    tenant_connection.set_schema_to_public()
    return elapsed


def check_provisioned(code: str) -> None:
    """Fail loudly if a run did not produce a usable institution."""
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from notifications.models import OutboundEmail
    from tenants.models import Institution

    institution = Institution.objects.get(code=code)
    with tenant_context(institution):
        if not User.objects.filter(email=f"founder@{code}.example").exists():
            raise RuntimeError(f"{code}: no super admin in {institution.schema_name}")
        if not OutboundEmail.objects.filter(template="invitation").exists():
            raise RuntimeError(f"{code}: no invitation queued in {institution.schema_name}")


# --- Where a clone spends its time ----------------------------------------------------------


class PhaseTimer:
    """Wraps functions (by module attribute) to add up the time spent in each, for a breakdown
    of one provisioning. Only used after the measured runs."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self._originals: list[tuple[object, str, object]] = []

    def wrap(self, owner: object, attribute: str, label: str) -> None:
        original = getattr(owner, attribute)
        totals = self.totals

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - started

        self._originals.append((owner, attribute, original))
        setattr(owner, attribute, wrapper)

    def restore(self) -> None:
        for owner, attribute, original in reversed(self._originals):
            setattr(owner, attribute, original)
        self._originals.clear()


class SqlTimer:
    """Adds up the time of SQL statements matching a marker, via a connection wrapper."""

    def __init__(self, markers: dict[str, str]) -> None:
        self.markers = markers
        self.totals: dict[str, float] = defaultdict(float)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            text = sql if isinstance(sql, str) else str(sql)
            for label, marker in self.markers.items():
                if marker in text:
                    self.totals[label] += time.perf_counter() - started
                    break


def breakdown(codes: list[str]) -> dict[str, float]:
    """Median seconds per phase of `institution_provision` over the given codes."""
    from django.db import connection
    from django_tenants.clone import CloneSchema

    import accounts.services
    import tenants.services

    per_phase: dict[str, list[float]] = defaultdict(list)
    for code in codes:
        phases = PhaseTimer()
        phases.wrap(CloneSchema, "_create_clone_schema_function", "clone: CREATE FUNCTION")
        phases.wrap(tenants.services, "schema_clone_from_template", "clone: total")
        phases.wrap(accounts.services, "user_invite_in_transaction", "user_invite (incl. e-mail)")
        phases.wrap(accounts.services, "email_enqueue", "email_enqueue")
        phases.wrap(tenants.services, "audit_record", "audit_record (public)")
        sql = SqlTimer(
            {
                "advisory lock": "cohortly:provisioning",
                "clone: SELECT clone_schema()": "SELECT clone_schema(",
            }
        )
        try:
            with connection.execute_wrapper(sql):
                total = timed(provision_by_clone, code)
        finally:
            phases.restore()
        check_provisioned(code)
        per_phase["total"].append(total)
        for label, seconds in [*phases.totals.items(), *sql.totals.items()]:
            per_phase[label].append(seconds)
        # The commit is part of the total; what is left is rows, validation and Python.
        known = sum(
            phases.totals[label]
            for label in ("clone: total", "user_invite (incl. e-mail)", "audit_record (public)")
        )
        per_phase["other (rows, validation, commit)"].append(
            total - known - sql.totals["advisory lock"]
        )
    return {label: statistics.median(values) for label, values in per_phase.items()}


CATALOG_BUFFERS_SQL = """
    SELECT sum(coalesce(heap_blks_hit, 0) + coalesce(heap_blks_read, 0)
               + coalesce(idx_blks_hit, 0) + coalesce(idx_blks_read, 0)
               + coalesce(toast_blks_hit, 0) + coalesce(toast_blks_read, 0))
    FROM pg_statio_all_tables WHERE schemaname = 'pg_catalog'
"""


def clone_catalog_work(name: str) -> tuple[int, int | None, float]:
    """One clone, with the number of schemas already in the database and the catalogue buffer
    pages it touched (a measure of work that the machine's load does not blur; None where the
    server cannot flush its statistics on demand, before PostgreSQL 15)."""
    from django.conf import settings
    from django.db import connection
    from django_tenants.clone import CloneSchema

    from tenants.db import tenant_connection

    tenant_connection.set_schema_to_public()
    CloneSchema()._create_clone_schema_function()
    with connection.cursor() as cursor:

        def catalog_buffers() -> int | None:
            try:
                cursor.execute("SELECT pg_stat_force_next_flush()")
            except Exception:
                return None
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(CATALOG_BUFFERS_SQL)
            return int(cursor.fetchone()[0])

        cursor.execute(
            "SELECT count(*) FROM pg_namespace "
            "WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
        )
        schemas = cursor.fetchone()[0]
        before = catalog_buffers()
        started = time.perf_counter()
        cursor.execute(
            "SELECT clone_schema(%s, %s, %s)", [settings.TENANT_BASE_SCHEMA, name, "DATA"]
        )
        seconds = time.perf_counter() - started
        after = catalog_buffers()
    work = after - before if before is not None and after is not None else None
    return schemas, work, seconds


def log_catalog_work(label: str, sample: tuple[int, int | None, float]) -> None:
    schemas, work, seconds = sample
    pages = "n/a" if work is None else f"{work:,}"
    log(
        f"  {label}: {schemas} schemas in the database, {pages} catalogue buffer pages, "
        f"{seconds:.3f} s"
    )


# --- Main ----------------------------------------------------------------------------------


def measure(runs: int, with_breakdown: bool) -> dict[str, float]:
    log("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if with_breakdown:
        first_clone = clone_catalog_work("bench_scale_first")

    from tenants.services import schema_pool_drain, schema_pool_refill

    clone_times: list[float] = []
    replay_times: list[float] = []
    for index in range(runs):
        # Untimed, as in production, where a task refills the pool after each provisioning.
        schema_pool_refill()
        for label, function, times in (
            ("clone", provision_by_clone, clone_times),
            ("replay", provision_by_replay, replay_times),
        ):
            code = f"bench-{label}-{index}"
            with contextlib.redirect_stdout(sys.stderr):
                seconds = timed(function, code)
            check_provisioned(code)
            times.append(seconds)
            log(f"  {label:6} {index + 1}/{runs}: {seconds:.3f} s")

    # With the pool empty (a burst of provisionings faster than the refill task), the service
    # clones the template while the operator waits.
    schema_pool_drain()
    cold_times = []
    for index in range(3):
        code = f"bench-cold-{index}"
        cold_times.append(timed(provision_by_clone, code))
        check_provisioned(code)
        log(f"  cold clone {index + 1}/3: {cold_times[-1]:.3f} s")

    clone_median = statistics.median(clone_times)
    replay_median = statistics.median(replay_times)
    log(
        f"clone  min/median/max: {min(clone_times):.3f} / {clone_median:.3f} / "
        f"{max(clone_times):.3f} s"
    )
    log(
        f"replay min/median/max: {min(replay_times):.3f} / {replay_median:.3f} / "
        f"{max(replay_times):.3f} s"
    )

    log("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if with_breakdown:
        log("where a cold clone spends its time (pool empty; median of 3, seconds):")
        for label, seconds in sorted(breakdown([f"bench-phase-{i}" for i in range(3)]).items()):
            log(f"  {label:45} {seconds:.3f}")
        log("a clone's work grows with the number of schemas already in the database:")
        log_catalog_work("first clone", first_clone)
        log_catalog_work("last clone ", clone_catalog_work("bench_scale_last"))
    return {
        "cold_clone_median_s": statistics.median(cold_times),
        "clone_median_s": clone_median,
        "replay_median_s": replay_median,
        "ratio": replay_median / clone_median,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="provisionings per method")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the phase breakdown")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    return run_benchmark(
        "provisioning", lambda: measure(args.runs, not args.no_breakdown), keep=args.keep
    )


if __name__ == "__main__":
    sys.exit(main())
