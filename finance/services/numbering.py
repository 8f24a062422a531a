"""Gapless invoice and credit note numbers, one sequence per kind and financial year.

The financial year starts in the month the finance settings give (March by default, as in South
Africa) and is named by the calendar year it ends in: 1 March 2026 – 28 February 2027 is 2027,
so its 42nd invoice is INV-2027-00042. A number is taken inside the issuing transaction from
the year's counter row, locked `FOR UPDATE` until that transaction ends: concurrent issues wait
for each other, and an issue that rolls back gives its number back, so there are no gaps and no
number is used twice."""

import datetime

from django.db import connection

from finance.models import NUMBER_PREFIX, DocumentKind


def financial_year_of(day: datetime.date, *, start_month: int) -> int:
    if start_month == 1 or day.month < start_month:
        return day.year
    return day.year + 1


def document_number(kind: str, financial_year: int, sequence: int) -> str:
    return f"{NUMBER_PREFIX[DocumentKind(kind)]}-{financial_year}-{sequence:05d}"


def number_take(*, kind: str, financial_year: int) -> int:
    """The next number of the year's sequence; its counter stays locked until the caller's
    transaction ends (refused outside one)."""
    if not connection.in_atomic_block:
        raise RuntimeError("number_take runs inside the issuing transaction.")
    # One statement: the year's row is made or moved on, and stays locked by this transaction
    # (an upsert locks the row it updates) until the issue commits or rolls back. It runs while
    # every other issue of the year waits, so it costs one round trip, not three.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO finance_invoicecounter AS counter (kind, financial_year, last_number) "
            "VALUES (%s, %s, 1) "
            "ON CONFLICT (kind, financial_year) "
            "DO UPDATE SET last_number = counter.last_number + 1 "
            "RETURNING last_number",
            [kind, financial_year],
        )
        (number,) = cursor.fetchone()
    return int(number)
