"""Every write to what the institution teaches: faculties, departments, programmes, courses with
their prerequisites and outcomes, academic years and sessions, and closures. Each checks the
actor may manage the catalogue before its transaction opens, runs in one durable transaction and
records its audit event (the fields that changed, old and new). Grading scales are
academics.grading's."""

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.deletion import ProtectedError

from academics.imports import catalogue_plan
from academics.models import (
    AcademicSession,
    AcademicYear,
    Closure,
    Course,
    CoursePrerequisite,
    Department,
    Faculty,
    Outcome,
    Programme,
)
from academics.prerequisites import cycle_message, prerequisite_path
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from tenants.db import schema_lock

MANAGE_CATALOGUE = "academics.manage_catalogue"
# A programme's fee fields: only who manages fees (finance) sets them. The permission is
# delivery's, named by its code (academics does not depend on delivery).
MANAGE_FEES = "delivery.manage_fees"
FEE_FIELDS = ("fee_amount", "fee_currency", "subsidy_info")

M = TypeVar("M", bound=models.Model)


def catalogue_check(*, actor: User | None, action: str) -> None:
    """Refuse (audited, shown as 404) an actor who may not manage the catalogue."""
    permission_check(actor=actor, permission=MANAGE_CATALOGUE, action=f"academics.{action}")


def audit_value(value: Any) -> Any:
    """A field's value as the audit trail keeps it: a related object by its id, a date as text."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Iterable) and not isinstance(value, str):
        return [audit_value(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _fields_set(
    obj: models.Model, fields: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Put `fields` on `obj` (not saved); the old and new values of those that changed."""
    old_values, new_values = {}, {}
    for name, value in fields.items():
        current = getattr(obj, name)
        if audit_value(current) != audit_value(value):
            old_values[name], new_values[name] = audit_value(current), audit_value(value)
            setattr(obj, name, value)
    return old_values, new_values


def _create(model: type[M], *, actor: User | None, action: str, fields: Mapping[str, Any]) -> M:
    """Save a new `model` from `fields` after full_clean, with its audit event (in the caller's
    transaction)."""
    obj = model(**fields)
    obj.full_clean()
    obj.save()
    audit_record(
        actor=actor,
        action=action,
        entity=obj,
        new_values={name: audit_value(value) for name, value in fields.items()},
    )
    return obj


def _update(obj: M, *, actor: User | None, action: str, changes: Mapping[str, Any]) -> M:
    """Apply `changes` to `obj` after full_clean, audited when anything changed (in the caller's
    transaction)."""
    old_values, new_values = _fields_set(obj, changes)
    if not new_values:
        return obj
    obj.full_clean()
    obj.save(update_fields=[*new_values, *(["updated_at"] if hasattr(obj, "updated_at") else [])])
    audit_record(
        actor=actor, action=action, entity=obj, old_values=old_values, new_values=new_values
    )
    return obj


def _delete(obj: models.Model, *, actor: User | None, action: str, in_use: str) -> None:
    """Delete `obj` with its audit event; refused with `in_use` while anything refers to it."""
    snapshot = {"name": str(obj)}
    pk = obj.pk
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as error:
        raise ValidationError(in_use, code="in_use") from error
    audit_record(
        actor=actor,
        action=action,
        entity_type=obj._meta.label_lower,
        entity_id=pk,
        old_values=snapshot,
    )


def _code_taken(queryset: models.QuerySet[Any], code: str, *, what: str) -> None:
    """Refuse a code that another object of `queryset` has, naming that object."""
    other = queryset.filter(code__iexact=code).first()
    if other is not None:
        raise ValidationError({"code": f"The code {code} is taken: {what} {other} has it."})


# Faculties and departments


def faculty_create(*, actor: User | None, fields: Mapping[str, Any]) -> Faculty:
    catalogue_check(actor=actor, action="faculty_create")
    with transaction.atomic(durable=True):
        _code_taken(Faculty.objects.all(), fields["code"], what="the faculty")
        return _create(Faculty, actor=actor, action="faculty.created", fields=fields)


def faculty_update(*, faculty: Faculty, actor: User | None, changes: Mapping[str, Any]) -> Faculty:
    catalogue_check(actor=actor, action="faculty_update")
    with transaction.atomic(durable=True):
        if "code" in changes:
            _code_taken(Faculty.objects.exclude(pk=faculty.pk), changes["code"], what="the faculty")
        return _update(faculty, actor=actor, action="faculty.changed", changes=changes)


def faculty_delete(*, faculty: Faculty, actor: User | None) -> None:
    catalogue_check(actor=actor, action="faculty_delete")
    with transaction.atomic(durable=True):
        _delete(
            faculty,
            actor=actor,
            action="faculty.deleted",
            in_use=f"{faculty} has departments: move or delete them first.",
        )


def department_create(*, actor: User | None, fields: Mapping[str, Any]) -> Department:
    catalogue_check(actor=actor, action="department_create")
    with transaction.atomic(durable=True):
        _code_taken(
            Department.objects.filter(faculty=fields["faculty"]),
            fields["code"],
            what="the faculty's department",
        )
        return _create(Department, actor=actor, action="department.created", fields=fields)


def department_update(
    *, department: Department, actor: User | None, changes: Mapping[str, Any]
) -> Department:
    catalogue_check(actor=actor, action="department_update")
    with transaction.atomic(durable=True):
        if "code" in changes or "faculty" in changes:
            _code_taken(
                Department.objects.filter(
                    faculty=changes.get("faculty", department.faculty)
                ).exclude(pk=department.pk),
                changes.get("code", department.code),
                what="the faculty's department",
            )
        return _update(department, actor=actor, action="department.changed", changes=changes)


def department_delete(*, department: Department, actor: User | None) -> None:
    catalogue_check(actor=actor, action="department_delete")
    with transaction.atomic(durable=True):
        _delete(
            department,
            actor=actor,
            action="department.deleted",
            in_use=f"{department} has programmes: move them to another department first.",
        )


# Programmes and courses


def _fee_changes_check(
    *, actor: User | None, programme: Programme, fields: Mapping[str, Any], action: str
) -> None:
    """Refuse (audited) a change to the programme's fee or subsidy by someone who does not
    manage fees; the values it has already (a form showing them unchanged) pass."""
    changing = [
        name
        for name in FEE_FIELDS
        if name in fields and audit_value(fields[name]) != audit_value(getattr(programme, name))
    ]
    if changing:
        permission_check(actor=actor, permission=MANAGE_FEES, action=f"academics.{action}_fee")


def programme_create(*, actor: User | None, fields: Mapping[str, Any]) -> Programme:
    catalogue_check(actor=actor, action="programme_create")
    _fee_changes_check(actor=actor, programme=Programme(), fields=fields, action="programme_create")
    with transaction.atomic(durable=True):
        _code_taken(Programme.objects.all(), fields["code"], what="the programme")
        return _create(Programme, actor=actor, action="programme.created", fields=fields)


def programme_update(
    *, programme: Programme, actor: User | None, changes: Mapping[str, Any]
) -> Programme:
    """Change a programme; `is_active=False` retires it (new cohorts cannot pick it; cohorts
    that study it keep it)."""
    catalogue_check(actor=actor, action="programme_update")
    _fee_changes_check(actor=actor, programme=programme, fields=changes, action="programme_update")
    with transaction.atomic(durable=True):
        if "code" in changes:
            _code_taken(
                Programme.objects.exclude(pk=programme.pk), changes["code"], what="the programme"
            )
        return _update(programme, actor=actor, action="programme.changed", changes=changes)


def programme_delete(*, programme: Programme, actor: User | None) -> None:
    """Only a programme without courses and cohorts: otherwise retire it (make it inactive)."""
    catalogue_check(actor=actor, action="programme_delete")
    with transaction.atomic(durable=True):
        _delete(
            programme,
            actor=actor,
            action="programme.deleted",
            in_use=f"{programme} has courses or cohorts: make it inactive instead.",
        )


def course_create(*, actor: User | None, fields: Mapping[str, Any]) -> Course:
    catalogue_check(actor=actor, action="course_create")
    with transaction.atomic(durable=True):
        _code_taken(
            Course.objects.filter(programme=fields["programme"]),
            fields["code"],
            what="the programme's course",
        )
        return _create(Course, actor=actor, action="course.created", fields=fields)


def course_update(*, course: Course, actor: User | None, changes: Mapping[str, Any]) -> Course:
    """Change a course of its programme (a course never moves to another programme)."""
    catalogue_check(actor=actor, action="course_update")
    with transaction.atomic(durable=True):
        if "code" in changes:
            _code_taken(
                Course.objects.filter(programme=course.programme_id).exclude(pk=course.pk),
                changes["code"],
                what="the programme's course",
            )
        return _update(course, actor=actor, action="course.changed", changes=changes)


def course_delete(*, course: Course, actor: User | None) -> None:
    """Only a course never run: otherwise make it inactive. Its prerequisites go with it."""
    catalogue_check(actor=actor, action="course_delete")
    with transaction.atomic(durable=True):
        _delete(
            course,
            actor=actor,
            action="course.deleted",
            in_use=f"{course} has been run or taken: make it inactive instead.",
        )


def prerequisite_refusal(
    *,
    course: Course,
    prerequisite: Course,
    edges: Iterable[tuple[int, int]],
    codes: Mapping[int, str],
) -> str:
    """Why `course` may not require `prerequisite` given the existing `edges`, or ""."""
    if course.pk == prerequisite.pk:
        return f"{course.code} cannot require itself."
    if course.programme_id != prerequisite.programme_id:
        return f"{prerequisite.code} is a course of another programme."
    edges = list(edges)
    if (course.pk, prerequisite.pk) in edges:
        return f"{course.code} already requires {prerequisite.code}."
    path = prerequisite_path(edges, start=prerequisite.pk, goal=course.pk)
    if path is not None:
        return cycle_message([codes[course.pk], *(codes[pk] for pk in path)])
    return ""


def course_prerequisite_add(
    *, course: Course, prerequisite: Course, actor: User | None
) -> CoursePrerequisite:
    """`course` may be taken once `prerequisite` is completed. Refused for the course itself,
    a course of another programme, or one that (through others) requires `course` already,
    naming the cycle's path."""
    catalogue_check(actor=actor, action="course_prerequisite_add")
    with transaction.atomic(durable=True):
        # One change to a programme's prerequisites at a time: two additions that are each
        # fine alone could together close a cycle.
        Programme.objects.select_for_update().filter(pk=course.programme_id).get()
        courses = Course.objects.filter(programme=course.programme_id)
        edges = CoursePrerequisite.objects.filter(course__in=courses).values_list(
            "course_id", "prerequisite_course_id"
        )
        refusal = prerequisite_refusal(
            course=course,
            prerequisite=prerequisite,
            edges=edges,
            codes=dict(courses.values_list("pk", "code")),
        )
        if refusal:
            raise ValidationError({"prerequisite_course": refusal}, code="prerequisite_refused")
        link = CoursePrerequisite.objects.create(course=course, prerequisite_course=prerequisite)
        audit_record(
            actor=actor,
            action="course.prerequisite_added",
            entity=course,
            new_values={"prerequisite_course": prerequisite.pk},
        )
    return link


def course_prerequisite_remove(*, course: Course, prerequisite: Course, actor: User | None) -> None:
    catalogue_check(actor=actor, action="course_prerequisite_remove")
    with transaction.atomic(durable=True):
        removed, _ = CoursePrerequisite.objects.filter(
            course=course, prerequisite_course=prerequisite
        ).delete()
        if removed:
            audit_record(
                actor=actor,
                action="course.prerequisite_removed",
                entity=course,
                old_values={"prerequisite_course": prerequisite.pk},
            )


# Academic years and sessions


def _dates(value: datetime.date) -> str:
    return f"{value:%-d %b %Y}"


# Advisory locks (tenants.db.schema_lock) of checks that find no row to lock.
YEARS_LOCK, SESSIONS_LOCK = "academic_years", "academic_sessions"


def _year_overlap_check(
    starts_on: datetime.date, ends_on: datetime.date, *, excluding: int | None
) -> None:
    """Refuse dates out of order or overlapping another year, naming it (checked before
    full_clean, whose exclusion-constraint query cannot take a range that ends first)."""
    if ends_on < starts_on:
        raise ValidationError({"ends_on": "The year cannot end before it starts."})
    schema_lock(YEARS_LOCK)
    others = AcademicYear.objects.filter(starts_on__lte=ends_on, ends_on__gte=starts_on)
    if excluding is not None:
        others = others.exclude(pk=excluding)
    clash = others.first()
    if clash is not None:
        raise ValidationError(
            f"These dates overlap the academic year {clash.name} ({_dates(clash.starts_on)} to "
            f"{_dates(clash.ends_on)}): academic years never overlap.",
            code="overlap",
        )


def academic_year_create(*, actor: User | None, fields: Mapping[str, Any]) -> AcademicYear:
    catalogue_check(actor=actor, action="academic_year_create")
    with transaction.atomic(durable=True):
        _year_overlap_check(fields["starts_on"], fields["ends_on"], excluding=None)
        return _create(AcademicYear, actor=actor, action="academic_year.created", fields=fields)


def academic_year_update(
    *, year: AcademicYear, actor: User | None, changes: Mapping[str, Any]
) -> AcademicYear:
    """Change a year's name or dates; its sessions must stay within them."""
    catalogue_check(actor=actor, action="academic_year_update")
    with transaction.atomic(durable=True):
        starts_on = changes.get("starts_on", year.starts_on)
        ends_on = changes.get("ends_on", year.ends_on)
        _year_overlap_check(starts_on, ends_on, excluding=year.pk)
        outside = (
            year.sessions.filter(
                models.Q(start_date__lt=starts_on) | models.Q(end_date__gt=ends_on)
            )
            .order_by("start_date")
            .first()
        )
        if outside is not None:
            raise ValidationError(
                f"The session {outside} ({_dates(outside.start_date)} to "
                f"{_dates(outside.end_date)}) would fall outside the year: change it first.",
                code="session_outside",
            )
        return _update(year, actor=actor, action="academic_year.changed", changes=changes)


def academic_year_delete(*, year: AcademicYear, actor: User | None) -> None:
    catalogue_check(actor=actor, action="academic_year_delete")
    with transaction.atomic(durable=True):
        _delete(
            year,
            actor=actor,
            action="academic_year.deleted",
            in_use=f"The academic year {year} has sessions: delete them first.",
        )


def _session_within_year(fields: Mapping[str, Any]) -> None:
    year: AcademicYear = fields["academic_year"]
    start, end = fields["start_date"], fields["end_date"]
    if start < year.starts_on or end > year.ends_on:
        raise ValidationError(
            f"A session of {year.name} falls within it: from {_dates(year.starts_on)} to "
            f"{_dates(year.ends_on)}.",
            code="outside_year",
        )


def _current_unset(*, actor: User | None, keeping: AcademicSession | None) -> None:
    """Make whichever session is current no longer so, audited (before another becomes so: the
    database allows one)."""
    current = AcademicSession.objects.select_for_update().filter(is_current=True)
    if keeping is not None:
        current = current.exclude(pk=keeping.pk)
    for session in current:
        _update(
            session, actor=actor, action="academic_session.changed", changes={"is_current": False}
        )


def academic_session_create(*, actor: User | None, fields: Mapping[str, Any]) -> AcademicSession:
    """A session within its year. The first session is current (exactly one is, once any
    exists); a new session asked to be current takes over from the one before."""
    catalogue_check(actor=actor, action="academic_session_create")
    fields = dict(fields)
    with transaction.atomic(durable=True):
        _code_taken(AcademicSession.objects.all(), fields["code"], what="the session")
        if fields["end_date"] >= fields["start_date"]:
            _session_within_year(fields)
        schema_lock(SESSIONS_LOCK)
        first = not AcademicSession.objects.exists()
        fields["is_current"] = bool(fields.get("is_current")) or first
        if fields["is_current"]:
            _current_unset(actor=actor, keeping=None)
        return _create(
            AcademicSession, actor=actor, action="academic_session.created", fields=fields
        )


def academic_session_update(
    *, session: AcademicSession, actor: User | None, changes: Mapping[str, Any]
) -> AcademicSession:
    """Change a session's names or dates (within its year). Which one is current changes through
    `academic_session_make_current`."""
    catalogue_check(actor=actor, action="academic_session_update")
    changes = {name: value for name, value in changes.items() if name != "is_current"}
    with transaction.atomic(durable=True):
        if "code" in changes:
            _code_taken(
                AcademicSession.objects.exclude(pk=session.pk), changes["code"], what="the session"
            )
        fields = {
            "academic_year": changes.get("academic_year", session.academic_year),
            "start_date": changes.get("start_date", session.start_date),
            "end_date": changes.get("end_date", session.end_date),
        }
        if fields["end_date"] >= fields["start_date"]:
            _session_within_year(fields)
        return _update(session, actor=actor, action="academic_session.changed", changes=changes)


def academic_session_make_current(
    *, session: AcademicSession, actor: User | None
) -> AcademicSession:
    """`session` becomes the current one, in place of the one before (one change: there is
    never no current session, nor two)."""
    catalogue_check(actor=actor, action="academic_session_make_current")
    with transaction.atomic(durable=True):
        schema_lock(SESSIONS_LOCK)
        _current_unset(actor=actor, keeping=session)
        return _update(
            session, actor=actor, action="academic_session.changed", changes={"is_current": True}
        )


def academic_session_delete(*, session: AcademicSession, actor: User | None) -> None:
    """Refused for the current session while there are others (make another current first) and
    for one that course runs or course enrolments name."""
    catalogue_check(actor=actor, action="academic_session_delete")
    with transaction.atomic(durable=True):
        if session.is_current and AcademicSession.objects.exclude(pk=session.pk).exists():
            raise ValidationError(
                f"{session} is the current session: make another session current first.",
                code="current",
            )
        _delete(
            session,
            actor=actor,
            action="academic_session.deleted",
            in_use=f"{session} has course runs or course enrolments: it cannot be deleted.",
        )


# Closures


def closure_create(*, actor: User | None, fields: Mapping[str, Any]) -> Closure:
    catalogue_check(actor=actor, action="closure_create")
    with transaction.atomic(durable=True):
        return _create(Closure, actor=actor, action="closure.created", fields=fields)


def closure_update(*, closure: Closure, actor: User | None, changes: Mapping[str, Any]) -> Closure:
    catalogue_check(actor=actor, action="closure_update")
    with transaction.atomic(durable=True):
        return _update(closure, actor=actor, action="closure.changed", changes=changes)


def closure_delete(*, closure: Closure, actor: User | None) -> None:
    catalogue_check(actor=actor, action="closure_delete")
    with transaction.atomic(durable=True):
        _delete(closure, actor=actor, action="closure.deleted", in_use="")


# The catalogue from a spreadsheet


def catalogue_import(
    *, actor: User | None, rows: list[tuple[int, dict[str, str]]]
) -> dict[str, int]:
    """Create and update the programmes, courses and prerequisites of checked rows (see
    academics.imports), all or nothing: the rows are checked again against the catalogue as
    it is now, and any refused row refuses the import. Each object written has its own audit
    event, and the import one more with the counts. Prerequisites are added, never removed."""
    catalogue_check(actor=actor, action="catalogue_import")
    with transaction.atomic(durable=True):
        # One import at a time (and no prerequisite added beside it): the plan stays true.
        list(Programme.objects.select_for_update().order_by("pk").values_list("pk"))
        plan = catalogue_plan(rows)
        if plan.errors:
            raise ValidationError(
                f"{plan.errors} row{'s' if plan.errors != 1 else ''} of the file "
                f"{'are' if plan.errors != 1 else 'is'} refused: nothing was imported. Fix the "
                "file and upload it again.",
                code="rows_refused",
            )
        programmes: dict[str, Programme] = {}
        for code, fields in plan.programmes.items():
            existing = plan.existing_programmes.get(code)
            programmes[code] = (
                _update(existing, actor=actor, action="programme.changed", changes=fields)
                if existing
                else _create(
                    Programme,
                    actor=actor,
                    action="programme.created",
                    fields={"code": code, **fields},
                )
            )
        courses: dict[tuple[str, str], Course] = {}
        for (programme_code, code), fields in plan.courses.items():
            course = plan.existing_courses.get((programme_code, code))
            courses[programme_code, code] = (
                _update(course, actor=actor, action="course.changed", changes=fields)
                if course
                else _create(
                    Course,
                    actor=actor,
                    action="course.created",
                    fields={"programme": programmes[programme_code], "code": code, **fields},
                )
            )
        for course_key, prerequisite_key in plan.prerequisites:
            course, prerequisite = courses.get(course_key), courses.get(prerequisite_key)
            course = course or plan.existing_courses[course_key]
            prerequisite = prerequisite or plan.existing_courses[prerequisite_key]
            CoursePrerequisite.objects.create(course=course, prerequisite_course=prerequisite)
            audit_record(
                actor=actor,
                action="course.prerequisite_added",
                entity=course,
                new_values={"prerequisite_course": prerequisite.pk},
            )
        counts = plan.counts()
        audit_record(
            actor=actor,
            action="catalogue.imported",
            entity_type="academics.catalogue",
            entity_id="import",
            new_values={**counts, "rows": len(rows)},
        )
    return counts


# Outcomes of a course


def _outcome_fields_check(fields: Mapping[str, Any]) -> None:
    """Refuse credits below one and an NQF level outside 1–10, beside their fields."""
    errors: dict[str, str] = {}
    credits = fields.get("credits")
    if credits is not None and credits < 1:
        errors["credits"] = "An outcome carries at least 1 credit."
    nqf_level = fields.get("nqf_level")
    if nqf_level is not None and not 1 <= nqf_level <= 10:
        errors["nqf_level"] = "The NQF level is from 1 to 10."
    if errors:
        raise ValidationError(errors)


def _outcome_code_taken(course: Course, code: str, *, keeping: Outcome | None = None) -> None:
    others = Outcome.objects.filter(course=course)
    if keeping is not None:
        others = others.exclude(pk=keeping.pk)
    _code_taken(others, code, what="the course's outcome")


def outcome_create(*, course: Course, actor: User | None, fields: Mapping[str, Any]) -> Outcome:
    """Add an outcome to `course`; without a position it goes after the course's others. The
    course's row is locked, so that two outcomes added at once cannot share a code."""
    catalogue_check(actor=actor, action="outcome_create")
    fields = {**fields, "code": str(fields.get("code", "")).strip()}
    _outcome_fields_check(fields)
    with transaction.atomic(durable=True):
        course = Course.objects.select_for_update().get(pk=course.pk)
        _outcome_code_taken(course, fields["code"])
        if fields.get("position") is None:
            last = (
                Outcome.objects.filter(course=course)
                .order_by("-position")
                .values_list("position", flat=True)
                .first()
            )
            fields["position"] = 0 if last is None else last + 1
        return _create(
            Outcome, actor=actor, action="outcome.created", fields={**fields, "course": course}
        )


def outcome_update(*, outcome: Outcome, actor: User | None, changes: Mapping[str, Any]) -> Outcome:
    """Change an outcome of its course (it never moves to another course); `is_active=False`
    takes it out of new logbook entries and portfolios, and keeps what already uses it."""
    catalogue_check(actor=actor, action="outcome_update")
    changes = {name: value for name, value in changes.items() if name != "course"}
    if "code" in changes:
        changes["code"] = str(changes["code"]).strip()
    if changes.get("position", 0) is None:
        changes.pop("position")
    _outcome_fields_check(changes)
    with transaction.atomic(durable=True):
        locked = Outcome.objects.select_for_update().select_related("course").get(pk=outcome.pk)
        if "code" in changes:
            _outcome_code_taken(locked.course, changes["code"], keeping=locked)
        return _update(locked, actor=actor, action="outcome.changed", changes=changes)


def outcome_in_use(outcome: Outcome) -> bool:
    """Whether learners' work refers to the outcome (a portfolio, a logbook entry, an
    observation report): then it can only be made inactive."""
    return (
        outcome.portfolios.exists()
        or outcome.logbook_entries.exists()
        or outcome.observation_reports.exists()
    )


def outcome_delete(*, outcome: Outcome, actor: User | None) -> None:
    """Only an outcome nothing refers to (see outcome_in_use): otherwise make it inactive."""
    catalogue_check(actor=actor, action="outcome_delete")
    in_use = (
        f"{outcome.code} has portfolios or logbook entries: make it inactive instead, so that "
        "they keep it."
    )
    with transaction.atomic(durable=True):
        locked = Outcome.objects.select_for_update().get(pk=outcome.pk)
        if outcome_in_use(locked):
            raise ValidationError(in_use, code="in_use")
        _delete(locked, actor=actor, action="outcome.deleted", in_use=in_use)
