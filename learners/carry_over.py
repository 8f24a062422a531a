"""Moving the person's details out of enrolments (`CohortEnrollment.student_data`) into one
learner per student, and back: the steps of enrolments migration 0008, kept here with their
tests. They work on the historical models the migration hands them.

A student with several enrolments gets the most recent value of each detail (from the enrolment
whose details were given last); every detail on which two enrolments differed is listed in the
output, by field and enrolment, never by value. A number another student has already is kept
encrypted, but without its keyed hash (which must be unique), and listed: an admin merges the
two records or corrects one."""

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import F

from learners.keys import national_id_decrypt, national_id_digest, national_id_encrypt
from learners.services import names_split

# student_data keys that become learner fields of the same name.
PLAIN_KEYS = (
    "gender",
    "race",
    "disability",
    "city",
    "home_language",
    "highest_qualification",
    "citizenship",
)
STARTED_STATES = ("in_progress", "complete")


def _birth_date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def learners_from_student_data(
    apps: Any, schema_editor: Any = None, *, out: Callable[[str], None] = print
) -> int:
    """Make a learner for every student with an enrolment and point the enrolments at it.
    Returns the number of learners made."""
    Enrollment = apps.get_model("enrolments", "CohortEnrollment")
    Learner = apps.get_model("learners", "Learner")
    DataKey = apps.get_model("learners", "DataKey")
    enrollments = list(
        Enrollment.objects.filter(learner__isnull=True)
        .select_related("user")
        # Details never given (an admin's typed ID number at the invitation) count as the
        # oldest, whatever the order of the enrolments.
        .order_by("user_id", F("details_completed_at").asc(nulls_first=True), "invited_at", "pk")
    )
    by_user: dict[int, list[Any]] = {}
    for enrollment in enrollments:
        by_user.setdefault(enrollment.user_id, []).append(enrollment)
    hashes_taken = set(
        Learner.objects.exclude(national_id_hash="").values_list("national_id_hash", flat=True)
    )
    made = 0
    for user_id, group in by_user.items():
        user = group[0].user
        values: dict[str, Any] = {}
        source: dict[str, int] = {}
        for enrollment in group:  # oldest details first: the most recent win
            for key, value in (enrollment.student_data or {}).items():
                if value in ("", None):
                    continue
                if key in values and values[key] != value:
                    out(
                        f"Learner for account {user_id}: {key} differed between enrolments "
                        f"{source[key]} and {enrollment.pk}; the value from {enrollment.pk} "
                        "is kept."
                    )
                values[key] = value
                source[key] = enrollment.pk
        first_name, last_name = names_split(user.full_name)
        started = any(enrollment.state in STARTED_STATES for enrollment in group)
        learner = Learner(
            user=user,
            first_name=first_name,
            last_name=last_name,
            email=user.email,
            date_of_birth=_birth_date(values.get("date_of_birth")),
            details_completed_at=max(
                (e.details_completed_at for e in group if e.details_completed_at), default=None
            ),
            status="active" if started else "candidate",
            **{key: str(values[key]) for key in PLAIN_KEYS if key in values},
        )
        number = "".join(str(values.get("id_number") or "").split())
        if number:
            learner.national_id_type = "sa_id"
            learner.national_id_country = "ZA"
            learner.national_id_encrypted = national_id_encrypt(number, model=DataKey)
            learner.national_id_last4 = number[-4:]
            digest = national_id_digest(number, kind="sa_id", country="ZA", model=DataKey)
            if digest in hashes_taken:
                out(
                    f"Learner for account {user_id}: the ID number of enrolment "
                    f"{source['id_number']} is another learner's too; it is kept, but the two "
                    "records should be merged or one corrected."
                )
            else:
                learner.national_id_hash = digest
                hashes_taken.add(digest)
        learner.save()
        Enrollment.objects.filter(pk__in=[e.pk for e in group]).update(learner=learner)
        made += 1
    if made:
        out(f"{made} learners made from {len(enrollments)} enrolments.")
    return made


def student_data_from_learners(apps: Any, schema_editor: Any = None) -> None:
    """The way back: each enrolment gets its learner's details as `student_data` again, and the
    learners are removed (what the old shape cannot hold, such as a passport number or an
    address, goes with them)."""
    Enrollment = apps.get_model("enrolments", "CohortEnrollment")
    Learner = apps.get_model("learners", "Learner")
    DataKey = apps.get_model("learners", "DataKey")
    for enrollment in Enrollment.objects.select_related("learner").exclude(learner=None):
        learner = enrollment.learner
        data = {key: getattr(learner, key) for key in PLAIN_KEYS if getattr(learner, key)}
        if learner.date_of_birth:
            data["date_of_birth"] = learner.date_of_birth.isoformat()
        if learner.national_id_type == "sa_id" and learner.national_id_encrypted is not None:
            data["id_number"] = national_id_decrypt(learner.national_id_encrypted, model=DataKey)
        enrollment.student_data = data
        enrollment.details_completed_at = learner.details_completed_at
        enrollment.learner = None
        enrollment.save(update_fields=["student_data", "details_completed_at", "learner"])
    Learner.objects.filter(user__isnull=False, enrollments__isnull=True).delete()
