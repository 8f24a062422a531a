"""The catalogue's rules, each with its audit event: codes unique, prerequisites never a cycle
(refused with its path), academic years never overlapping, sessions within their year with
exactly one current once any exists, and only who manages the catalogue changes it."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from academics.models import AcademicSession, AcademicYear, Closure, Course, Faculty, Programme
from academics.services import (
    academic_session_create,
    academic_session_delete,
    academic_session_make_current,
    academic_session_update,
    academic_year_create,
    academic_year_update,
    closure_create,
    closure_delete,
    course_create,
    course_delete,
    course_prerequisite_add,
    course_prerequisite_remove,
    course_update,
    department_create,
    faculty_create,
    faculty_delete,
    programme_create,
    programme_update,
)
from accounts.models import SystemRole
from accounts.services import role_create
from audit.models import AuditEvent
from tests.factories import CourseFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def _event(action: str, obj=None) -> AuditEvent:
    events = AuditEvent.objects.filter(action=action)
    if obj is not None:
        events = events.filter(entity_type=obj._meta.label_lower, entity_id=str(obj.pk))
    return events.latest("id")


PROGRAMME = {
    "name": "Electrical Engineering",
    "code": "EE01",
    "duration_years": 2,
    "total_credits": 240,
    "degree_type": "occupational_certificate",
    "nqf_level": 4,
    "saqa_qualification_id": "91761",
}


def test_a_programme_is_created_with_its_audit_event(admin):
    programme = programme_create(actor=admin, fields=PROGRAMME)
    assert programme.nqf_level == 4
    event = _event("programme.created", programme)
    assert event.actor == admin
    assert event.new_values["code"] == "EE01"


def test_a_programme_code_is_unique_naming_the_holder(admin):
    ProgrammeFactory(code="EE01", name="Existing")
    with pytest.raises(ValidationError) as refused:
        programme_create(actor=admin, fields=PROGRAMME)
    assert "EE01 Existing" in str(refused.value.message_dict["code"])
    assert not AuditEvent.objects.filter(action="programme.created").exists()


def test_an_nqf_level_outside_1_to_10_is_refused(admin):
    with pytest.raises(ValidationError) as refused:
        programme_create(actor=admin, fields={**PROGRAMME, "nqf_level": 11})
    assert "nqf_level" in refused.value.message_dict


def test_retiring_a_programme_records_old_and_new(admin):
    programme = ProgrammeFactory()
    programme_update(programme=programme, actor=admin, changes={"is_active": False})
    event = _event("programme.changed", programme)
    assert (event.old_values, event.new_values) == ({"is_active": True}, {"is_active": False})


def test_saving_without_a_change_records_nothing(admin):
    programme = ProgrammeFactory()
    programme_update(programme=programme, actor=admin, changes={"name": programme.name})
    assert not AuditEvent.objects.filter(action="programme.changed").exists()


def test_a_course_code_is_unique_per_programme_only(admin):
    first, second = ProgrammeFactory(), ProgrammeFactory()
    fields = {"code": "EL101", "name": "Wiring", "credits": 12}
    course_create(actor=admin, fields={**fields, "programme": first})
    course_create(actor=admin, fields={**fields, "programme": second})
    with pytest.raises(ValidationError, match="EL101 is taken"):
        course_create(actor=admin, fields={**fields, "programme": first})
    assert AuditEvent.objects.filter(action="course.created").count() == 2


def test_a_course_change_is_audited(admin):
    course = CourseFactory(is_core=True)
    course_update(course=course, actor=admin, changes={"is_core": False, "credits": 8})
    event = _event("course.changed", course)
    assert event.new_values == {"is_core": False, "credits": 8}


def test_a_course_that_was_never_run_is_deleted_with_its_prerequisites(admin):
    first = CourseFactory()
    second = CourseFactory(programme=first.programme)
    course_prerequisite_add(course=second, prerequisite=first, actor=admin)
    pk = first.pk
    course_delete(course=first, actor=admin)
    assert list(second.prerequisites.all()) == []
    assert _event("course.deleted").entity_id == str(pk)


def test_a_programme_with_courses_cannot_be_deleted(admin):
    course = CourseFactory()
    from academics.services import programme_delete

    with pytest.raises(ValidationError, match="make it inactive instead"):
        programme_delete(programme=course.programme, actor=admin)
    assert Programme.objects.filter(pk=course.programme.pk).exists()
    assert not AuditEvent.objects.filter(action="programme.deleted").exists()


# Prerequisites


@pytest.fixture
def chain(institution):
    """Three courses of one programme: EL201 requires EL150, which requires EL101."""
    programme = ProgrammeFactory()
    basics = CourseFactory(programme=programme, code="EL101")
    middle = CourseFactory(programme=programme, code="EL150")
    advanced = CourseFactory(programme=programme, code="EL201")
    return basics, middle, advanced


def test_a_prerequisite_is_added_with_its_audit_event(admin, chain):
    basics, middle, _ = chain
    course_prerequisite_add(course=middle, prerequisite=basics, actor=admin)
    assert list(middle.prerequisites.all()) == [basics]
    event = _event("course.prerequisite_added", middle)
    assert event.new_values == {"prerequisite_course": basics.pk}


def test_a_cycle_is_refused_with_its_path(admin, chain):
    basics, middle, advanced = chain
    course_prerequisite_add(course=middle, prerequisite=basics, actor=admin)
    course_prerequisite_add(course=advanced, prerequisite=middle, actor=admin)
    with pytest.raises(ValidationError) as refused:
        course_prerequisite_add(course=basics, prerequisite=advanced, actor=admin)
    assert refused.value.message_dict["prerequisite_course"] == [
        "That would make a cycle: EL101 requires EL201, which requires EL150, which requires EL101."
    ]
    assert list(basics.prerequisites.all()) == []
    assert AuditEvent.objects.filter(action="course.prerequisite_added").count() == 2


def test_a_two_course_cycle_is_refused(admin, chain):
    basics, middle, _ = chain
    course_prerequisite_add(course=middle, prerequisite=basics, actor=admin)
    with pytest.raises(ValidationError, match="EL101 requires EL150, which requires EL101"):
        course_prerequisite_add(course=basics, prerequisite=middle, actor=admin)


def test_a_course_cannot_require_itself(admin, chain):
    basics, _, _ = chain
    with pytest.raises(ValidationError, match="EL101 cannot require itself"):
        course_prerequisite_add(course=basics, prerequisite=basics, actor=admin)


def test_the_database_refuses_a_course_requiring_itself(chain):
    basics, _, _ = chain
    from academics.models import CoursePrerequisite

    with pytest.raises(IntegrityError), transaction.atomic():
        CoursePrerequisite.objects.create(course=basics, prerequisite_course=basics)


def test_a_prerequisite_from_another_programme_is_refused(admin, chain):
    basics, _, _ = chain
    elsewhere = CourseFactory(code="XX1")
    with pytest.raises(ValidationError, match="XX1 is a course of another programme"):
        course_prerequisite_add(course=basics, prerequisite=elsewhere, actor=admin)


def test_a_prerequisite_twice_is_refused(admin, chain):
    basics, middle, _ = chain
    course_prerequisite_add(course=middle, prerequisite=basics, actor=admin)
    with pytest.raises(ValidationError, match="EL150 already requires EL101"):
        course_prerequisite_add(course=middle, prerequisite=basics, actor=admin)


def test_a_diamond_is_not_a_cycle(admin, chain):
    basics, middle, advanced = chain
    course_prerequisite_add(course=middle, prerequisite=basics, actor=admin)
    course_prerequisite_add(course=advanced, prerequisite=middle, actor=admin)
    course_prerequisite_add(course=advanced, prerequisite=basics, actor=admin)
    assert set(advanced.prerequisites.all()) == {basics, middle}


def test_removing_a_prerequisite_is_audited(admin, chain):
    basics, middle, _ = chain
    course_prerequisite_add(course=middle, prerequisite=basics, actor=admin)
    course_prerequisite_remove(course=middle, prerequisite=basics, actor=admin)
    assert list(middle.prerequisites.all()) == []
    assert _event("course.prerequisite_removed", middle).old_values == {
        "prerequisite_course": basics.pk
    }


# Academic years and sessions


@pytest.fixture
def year(admin) -> AcademicYear:
    return academic_year_create(
        actor=admin, fields={"name": "2027", "starts_on": D(2027, 1, 1), "ends_on": D(2027, 12, 31)}
    )


def test_an_academic_year_is_created_with_its_audit_event(year, admin):
    assert _event("academic_year.created", year).new_values["starts_on"] == "2027-01-01"


def test_overlapping_years_are_refused_naming_the_clash(year, admin):
    with pytest.raises(ValidationError) as refused:
        academic_year_create(
            actor=admin,
            fields={"name": "2027-28", "starts_on": D(2027, 7, 1), "ends_on": D(2028, 6, 30)},
        )
    assert refused.value.messages == [
        "These dates overlap the academic year 2027 (1 Jan 2027 to 31 Dec 2027): academic "
        "years never overlap."
    ]
    assert AcademicYear.objects.count() == 1


def test_a_year_ending_before_it_starts_is_refused(admin):
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        academic_year_create(
            actor=admin, fields={"name": "x", "starts_on": D(2027, 2, 1), "ends_on": D(2027, 1, 1)}
        )


def test_a_year_cannot_shrink_past_its_sessions(year, admin):
    _session(admin, year, "T1", D(2027, 1, 10), D(2027, 3, 31))
    with pytest.raises(ValidationError, match="would fall outside the year"):
        academic_year_update(year=year, actor=admin, changes={"starts_on": D(2027, 2, 1)})


def _session(admin, year, code, start, end, **extra) -> AcademicSession:
    return academic_session_create(
        actor=admin,
        fields={
            "academic_year": year,
            "name": f"Term {code}",
            "code": code,
            "start_date": start,
            "end_date": end,
            **extra,
        },
    )


def test_the_first_session_becomes_current(year, admin):
    first = _session(admin, year, "T1", D(2027, 1, 10), D(2027, 3, 31))
    second = _session(admin, year, "T2", D(2027, 4, 10), D(2027, 6, 30))
    first.refresh_from_db()
    assert (first.is_current, second.is_current) == (True, False)
    assert _event("academic_session.created", first).new_values["is_current"] is True


def test_making_a_session_current_moves_it_from_the_one_before(year, admin):
    first = _session(admin, year, "T1", D(2027, 1, 10), D(2027, 3, 31))
    second = _session(admin, year, "T2", D(2027, 4, 10), D(2027, 6, 30))
    academic_session_make_current(session=second, actor=admin)
    assert list(AcademicSession.objects.filter(is_current=True)) == [second]
    assert _event("academic_session.changed", first).new_values == {"is_current": False}
    assert _event("academic_session.changed", second).new_values == {"is_current": True}


def test_a_new_session_asked_to_be_current_takes_over(year, admin):
    _session(admin, year, "T1", D(2027, 1, 10), D(2027, 3, 31))
    second = _session(admin, year, "T2", D(2027, 4, 10), D(2027, 6, 30), is_current=True)
    assert list(AcademicSession.objects.filter(is_current=True)) == [second]


def test_the_database_allows_one_current_session(year, admin):
    _session(admin, year, "T1", D(2027, 1, 10), D(2027, 3, 31))
    with pytest.raises(IntegrityError), transaction.atomic():
        AcademicSession.objects.create(
            academic_year=year,
            name="Sneaked",
            code="T9",
            start_date=D(2027, 5, 1),
            end_date=D(2027, 5, 30),
            is_current=True,
        )


def test_a_session_outside_its_year_is_refused(year, admin):
    with pytest.raises(ValidationError, match="falls within it: from 1 Jan 2027 to 31 Dec 2027"):
        _session(admin, year, "T1", D(2026, 12, 1), D(2027, 3, 31))
    assert not AcademicSession.objects.exists()


def test_an_update_cannot_unset_the_current_session(year, admin):
    first = _session(admin, year, "T1", D(2027, 1, 10), D(2027, 3, 31))
    academic_session_update(session=first, actor=admin, changes={"is_current": False, "name": "A"})
    first.refresh_from_db()
    assert (first.is_current, first.name) == (True, "A")


def test_the_current_session_is_deleted_only_when_it_is_the_last(year, admin):
    first = _session(admin, year, "T1", D(2027, 1, 10), D(2027, 3, 31))
    second = _session(admin, year, "T2", D(2027, 4, 10), D(2027, 6, 30))
    with pytest.raises(ValidationError, match="make another session current first"):
        academic_session_delete(session=first, actor=admin)
    academic_session_delete(session=second, actor=admin)
    academic_session_delete(session=first, actor=admin)
    assert not AcademicSession.objects.exists()
    assert AuditEvent.objects.filter(action="academic_session.deleted").count() == 2


# Faculties, departments, closures


def test_faculty_and_department_are_created_and_a_used_faculty_kept(admin):
    faculty = faculty_create(actor=admin, fields={"name": "Engineering", "code": "ENG"})
    department = department_create(
        actor=admin,
        fields={
            "faculty": faculty,
            "name": "Electrical",
            "code": "EL",
            "head_of_department": admin,
        },
    )
    assert _event("department.created", department).new_values["head_of_department"] == admin.pk
    with pytest.raises(ValidationError, match="has departments"):
        faculty_delete(faculty=faculty, actor=admin)
    assert Faculty.objects.filter(pk=faculty.pk).exists()


def test_a_closure_is_created_and_deleted_with_events(admin):
    closure = closure_create(
        actor=admin,
        fields={"name": "Winter recess", "starts_on": D(2027, 7, 1), "ends_on": D(2027, 7, 9)},
    )
    assert _event("closure.created", closure).new_values["name"] == "Winter recess"
    pk = closure.pk
    closure_delete(closure=closure, actor=admin)
    assert not Closure.objects.exists()
    deleted = _event("closure.deleted")
    assert (deleted.entity_id, deleted.old_values) == (str(pk), {"name": "Winter recess"})


# Who may


@pytest.mark.parametrize("role", [SystemRole.TRAINER, SystemRole.VERIFIER, SystemRole.MODERATOR])
def test_only_who_manages_the_catalogue_changes_it(role, chain):
    outsider = UserFactory(roles=[role])
    basics, middle, _ = chain
    with pytest.raises(PermissionDenied):
        programme_create(actor=outsider, fields=PROGRAMME)
    with pytest.raises(PermissionDenied):
        course_prerequisite_add(course=middle, prerequisite=basics, actor=outsider)
    assert not Programme.objects.filter(code="EE01").exists()
    assert list(middle.prerequisites.all()) == []
    refusal = AuditEvent.objects.filter(action="permission.denied", actor=outsider)
    assert set(refusal.values_list("entity_id", flat=True)) == {
        "academics.programme_create",
        "academics.course_prerequisite_add",
    }
    assert Course.objects.count() == 3


@pytest.fixture
def catalogue_manager(super_admin):
    """Manages the catalogue, not fees."""
    role = role_create(
        actor=super_admin,
        name="Catalogue editor",
        description="Keeps the programmes and courses.",
        permission_codes=["academics.manage_catalogue"],
    )
    return UserFactory(roles=[role])


def test_only_who_manages_fees_sets_a_programmes_fee(catalogue_manager, admin):
    fee = {"fee_amount": Decimal("1500.00"), "fee_currency": "ZAR", "subsidy_info": "SETA grant"}
    with pytest.raises(PermissionDenied):
        programme_create(actor=catalogue_manager, fields={**PROGRAMME, **fee})
    assert not Programme.objects.filter(code=PROGRAMME["code"]).exists()
    programme = programme_create(actor=catalogue_manager, fields=PROGRAMME)
    for change in ({"fee_amount": Decimal("900")}, {"subsidy_info": "Paid by the employer"}):
        with pytest.raises(PermissionDenied):
            programme_update(programme=programme, actor=catalogue_manager, changes=change)
    programme.refresh_from_db()
    assert (programme.fee_amount, programme.subsidy_info) == (None, "")
    assert _event("permission.denied").entity_id == "academics.programme_update_fee"

    programme_update(programme=programme, actor=admin, changes=fee)  # admins manage fees
    programme.refresh_from_db()
    # The fee as it stands, sent back unchanged with a catalogue change, is no change to it.
    programme_update(
        programme=programme,
        actor=catalogue_manager,
        changes={"name": "Electrical Engineering (NQF 4)", **fee},
    )
    programme.refresh_from_db()
    assert programme.name == "Electrical Engineering (NQF 4)"
    assert programme.fee_amount == Decimal("1500.00")
