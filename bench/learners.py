"""Learner lookup benchmark: finding a learner by ID number among 100,000, through the keyed
hash, against fetching the same learner by primary key.

    .venv/bin/python bench/learners.py [--learners 100000] [--lookups 2000] [--keep]

Works in a scratch database of its own (see scratch.py) with one freshly provisioned
institution, whose learners are written in bulk (not measured): each with a distinct valid
South African ID number stored as the services store it (`national_id_fields`: encrypted under
the institution's key, its keyed hash and last four digits), by `audit.bulk.rows_copy`.

Then, in turns so that both see the same machine load, for learners picked at random:

- lookup: `learners.services.national_id_holder`, as the forms, the invitation and the import
  find who has a number: the number's keyed hash (HMAC), then the query on it;
- baseline: the same query by primary key, the cheapest lookup there is.

Each lookup must find the right learner. Progress goes to stderr; stdout ends with:

    learners: <int>
    lookup_median_ms: <float>
    lookup_p95_ms: <float>
    baseline_pk_lookup_median_ms: <float>

The target is lookup_median_ms under 5; the exit status is non-zero when it is missed or when
anything could not be measured.
"""

import argparse
import datetime
import random
import statistics
import sys
import time

from scratch import CouldNotMeasure, log, run_benchmark

TARGET_MS = 5.0
CHUNK = 10_000


def id_number(index: int) -> str:
    """A valid SA ID number, distinct for each index: ten thousand serials per birth date."""
    from stdnum import luhn

    born = datetime.date(1980, 1, 1) + datetime.timedelta(days=index // 10_000)
    body = f"{born:%y%m%d}{index % 10_000:04d}08"
    return body + luhn.calc_check_digit(body)


def learners_write(count: int) -> None:
    """Bulk set-up (not what is measured), a chunk per transaction."""
    from django.db import connection, transaction

    from audit.bulk import rows_copy
    from learners.models import IdentityType, Learner
    from learners.services import national_id_fields

    started = time.perf_counter()
    for first in range(0, count, CHUNK):
        chunk = [
            Learner(
                first_name=f"Learner{index:06d}",
                last_name="Bench",
                email=f"learner{index:06d}@bench.example",
                **national_id_fields(kind=IdentityType.SA_ID, country="", number=id_number(index)),
            )
            for index in range(first, min(first + CHUNK, count))
        ]
        with transaction.atomic():
            rows_copy(Learner, chunk)
        log(f"  {first + len(chunk):,} learners")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Learner._meta.db_table}")
    log(f"learners written in {time.perf_counter() - started:.1f} s")


def measure(count: int, lookups: int) -> dict[str, float | int]:
    from learners.models import IdentityType, Learner
    from learners.services import national_id_holder
    from tenants.db import tenant_connection
    from tenants.services import institution_provision

    institution = institution_provision(
        name="Bench College", code="bench", admin_email="admin@bench.example"
    )
    tenant_connection.set_tenant(institution)
    learners_write(count)
    pks = dict(Learner.objects.values_list("email", "pk"))
    if len(pks) != count:
        raise CouldNotMeasure(f"{len(pks):,} learners were written, not {count:,}")

    chooser = random.Random(15)  # noqa: S311 (which learners to look up, not secrets)
    picked = [chooser.randrange(count) for _ in range(lookups)]
    by_number, by_pk = [], []
    for turn, index in enumerate(picked):
        expected = pks[f"learner{index:06d}@bench.example"]
        started = time.perf_counter()
        holder = national_id_holder(kind=IdentityType.SA_ID, country="", number=id_number(index))
        middle = time.perf_counter()
        same = Learner.objects.filter(pk=expected).first()
        ended = time.perf_counter()
        if holder is None or holder.pk != expected or same is None:
            raise CouldNotMeasure(f"learner {index} was not found by their ID number")
        if turn >= 20:  # the first ones warm the connection, the caches and the keys
            by_number.append((middle - started) * 1000)
            by_pk.append((ended - middle) * 1000)
    median = statistics.median(by_number)
    log(f"by ID number {median:.3f} ms, by primary key {statistics.median(by_pk):.3f} ms")
    return {
        "learners": count,
        "lookup_median_ms": median,
        "lookup_p95_ms": statistics.quantiles(by_number, n=20)[-1],
        "baseline_pk_lookup_median_ms": statistics.median(by_pk),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.lookups <= 40 or not 1 <= args.learners <= 3_000_000:
        parser.error("--lookups must be over 40, --learners between 1 and 3,000,000")

    figures: dict[str, float | int] = {}

    def run() -> dict[str, float | int]:
        figures.update(measure(args.learners, args.lookups))
        return figures

    status = run_benchmark("learners", run, keep=args.keep)
    if status == 0 and figures["lookup_median_ms"] >= TARGET_MS:
        log(f"missed the target: lookup_median_ms under {TARGET_MS}")
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
