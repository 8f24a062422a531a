"""Reads of student imports that pages use: a cohort's imports, what confirming one would
create, and its progress."""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.cache import cache
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from redis.exceptions import RedisError

from accounts.models import User, normalise_email
from cohorts.imports.validation import array_of, learners_known
from cohorts.imports.writing import ImportResult
from cohorts.models import (
    Cohort,
    StudentImport,
    StudentImportStatus,
)
from enrolments.models import CohortEnrollment

logger = logging.getLogger(__name__)


# Redis errors, and the socket errors under them: progress in the cache is a nicety.
CACHE_ERRORS = (RedisError, OSError)


def progress_key(student_import: StudentImport) -> str:
    # The cache's key function prefixes the schema: one institution cannot read another's.
    return f"cohorts:student-import:{student_import.pk}:progress"


def student_import_progress(student_import: StudentImport) -> int:
    """Percent done, for the progress bar: rows read while parsing, steps while importing
    (0 when the cache cannot be reached)."""
    if student_import.status != StudentImportStatus.IMPORTING:
        return student_import.progress_percent
    try:
        return int(cache.get(progress_key(student_import), 0))
    except CACHE_ERRORS as error:
        logger.warning(
            "Progress of student import %s not read: %s", student_import.pk, type(error).__name__
        )
        return 0


def enrollments_import_plan(*, cohort: Cohort, rows: Iterable[Mapping[str, Any]]) -> ImportResult:
    """What `enrollments_import` would create for rows that have been checked (a preview's or
    `rows_check`'s valid rows), without writing: three queries, whatever the number of rows.
    A row counts as an existing learner when its ID number or e-mail address is one's; whether
    they still agree is for the import to check again."""
    by_email: dict[str, dict[str, Any]] = {}
    for row in rows:
        email = normalise_email(str(row["email"]))
        by_email[email] = {**row, "email": email}
    emails = list(by_email)
    accounts = dict(
        User.objects.filter(email__in=array_of(emails)).values_list("email", "password")
    )
    enrolled = set(
        CohortEnrollment.objects.filter(
            cohort=cohort, user__email__in=array_of(emails)
        ).values_list("user__email", flat=True)
    )
    known = learners_known(by_email.values())
    plan = ImportResult(already_enrolled=len(enrolled))
    for email, row in by_email.items():
        if email in enrolled:
            continue
        plan.enrolled += 1
        if known.knows(row):
            plan.existing_learners += 1
        else:
            plan.new_learners += 1
        password = accounts.get(email)
        if password is None:
            plan.new_accounts += 1
            plan.invitations += 1
        else:
            plan.existing_accounts += 1
            if password.startswith(UNUSABLE_PASSWORD_PREFIX):
                plan.invitations += 1
            else:
                plan.notices += 1
    return plan


def student_import_for_cohort(*, cohort: Cohort, pk: int, rows: bool = True) -> StudentImport:
    """The import `pk` of `cohort` (404 for another cohort's), with its rows (up to 20,000 of
    them, as JSON) only when the page shows them."""
    imports = StudentImport.objects.select_related("cohort")
    if not rows:
        imports = imports.defer("valid_rows", "row_errors")
    return get_object_or_404(imports, pk=pk, cohort=cohort)


def student_imports_recent(*, cohort: Cohort, limit: int = 5) -> QuerySet[StudentImport]:
    """The cohort's latest imports, for the upload page, without their rows."""
    return (
        StudentImport.objects.filter(cohort=cohort)
        .select_related("created_by")
        .defer("valid_rows", "row_errors")[:limit]
    )
