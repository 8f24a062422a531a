"""Trainers and course runs: a trainer is linked to an account with the trainer role; a cohort's
runs are made from its programme in one action, which enrols its learners in the first core
courses; electives and later courses check prerequisites when a learner is enrolled."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role, SystemRole, User
from accounts.roles import permissions_for
from delivery.models import CourseEnrollment, CourseEnrollmentStatus, CourseRun, Trainer
from delivery.services.runs import (
    RunChanges,
    cohort_runs_create,
    run_learners_enrol,
    run_update,
)
from delivery.services.trainers import TrainerDetails, trainer_create, trainer_update
from enrolments.services import enrollment_withdraw
from notifications.models import OutboundEmail
from tests.delivery.runs_support import (
    cohort_of,
    current_session,
    enrol,
    events,
    programme_with_courses,
)
from tests.factories import (
    CohortFactory,
    CourseEnrollmentFactory,
    SessionFactory,
    TrainerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# Trainers


def test_a_new_address_becomes_a_trainer_invited_with_the_trainer_role(super_admin):
    trainer = trainer_create(
        actor=super_admin,
        email="Thandi.Trainer@Example.org",
        details=TrainerDetails(name="Thandi Trainer", accreditation_number="ETDP-123"),
    )
    user = User.objects.get(email="thandi.trainer@example.org")
    assert trainer.user == user
    assert user.may("delivery.teach")
    assert OutboundEmail.objects.filter(recipient=user.email, template="invitation").exists()
    [event] = events("trainer.created")
    assert event.entity_id == str(trainer.pk)
    assert event.new_values["accreditation_number"] == "(changed)"
    # A person's name and accreditation are recorded as changed, without their values.
    assert "Thandi" not in str(event.new_values)
    assert "ETDP-123" not in str(event.new_values)
    [invited] = [e for e in events("user.invited") if e.entity_id == str(user.pk)]
    assert invited.new_values["roles"] == ["Trainer"]


def test_an_existing_account_is_given_the_trainer_role(super_admin):
    person = UserFactory(roles=[SystemRole.VERIFIER], email="vera@example.org")
    trainer = trainer_create(
        actor=super_admin, email="vera@example.org", details=TrainerDetails("Vera")
    )
    person.refresh_from_db()
    assert trainer.user == person
    assert set(person.roles.values_list("key", flat=True)) == {"verifier", "trainer"}
    [changed] = events("user.roles_changed")
    assert changed.entity_id == str(person.pk)
    assert (changed.old_values, changed.new_values) == (
        {"roles": ["Verifier"]},
        {"roles": ["Trainer", "Verifier"]},
    )


def test_a_trainer_cannot_be_added_twice(super_admin):
    existing = TrainerFactory()
    with pytest.raises(ValidationError, match="is a trainer already"):
        trainer_create(
            actor=super_admin, email=existing.user.email, details=TrainerDetails("Again")
        )
    assert not events("trainer.created")


def test_only_who_manages_delivery_adds_trainers(institution):
    trainer = TrainerFactory()
    with pytest.raises(PermissionDenied):
        trainer_create(actor=trainer.user, email="x@example.org", details=TrainerDetails("X"))
    assert events("permission.denied")[-1].entity_id == "delivery.trainer_create"
    assert not Trainer.objects.filter(email="x@example.org").exists()


def test_who_may_not_give_the_trainer_role_adds_no_trainer(institution):
    """A clerk who manages people and delivery, but may not teach: the trainer role is not
    theirs to give (accounts.permissions.may_grant), neither to an account nor in an
    invitation."""
    role = Role.objects.create(name="Delivery clerk")
    role.permissions.set(permissions_for(["delivery.manage_delivery", "accounts.manage_people"]))
    clerk = UserFactory(roles=[role])
    person = UserFactory(roles=[SystemRole.VERIFIER], email="vera@example.org")
    for email in ("vera@example.org", "new@example.org"):
        with pytest.raises(PermissionDenied):
            trainer_create(actor=clerk, email=email, details=TrainerDetails("X"))
    assert not Trainer.objects.exists()
    assert set(person.roles.values_list("key", flat=True)) == {"verifier"}
    assert not User.objects.filter(email="new@example.org").exists()
    assert [e.entity_id for e in events("permission.denied")] == ["delivery.trainer_create"] * 2


def test_inviting_a_new_trainer_needs_managing_people(institution):
    """Someone who manages delivery and teaches may give the trainer role to an account here,
    but inviting a new address is for who manages people."""
    role = Role.objects.create(name="Lead trainer")
    # Everything the trainer role allows (teaching, proposing projects), and managing delivery.
    role.permissions.set(
        permissions_for(["delivery.manage_delivery", "delivery.teach", "projects.propose_projects"])
    )
    lead = UserFactory(roles=[role])
    UserFactory(roles=[SystemRole.VERIFIER], email="vera@example.org")

    trainer_create(actor=lead, email="vera@example.org", details=TrainerDetails("Vera"))
    with pytest.raises(PermissionDenied):
        trainer_create(actor=lead, email="new@example.org", details=TrainerDetails("New"))

    assert list(Trainer.objects.values_list("email", flat=True)) == ["vera@example.org"]
    assert not User.objects.filter(email="new@example.org").exists()
    assert events("permission.denied")[-1].entity_id == "delivery.trainer_invite"


def test_a_trainers_details_change_with_an_audit_event(admin):
    trainer = TrainerFactory()
    trainer_update(
        actor=admin,
        trainer=trainer,
        details=TrainerDetails(
            name=trainer.name,
            accreditation_number="NEW-9",
            accreditation_expires_on=datetime.date(2028, 1, 31),
            active_status=False,
        ),
    )
    trainer.refresh_from_db()
    assert (trainer.accreditation_number, trainer.active_status) == ("NEW-9", False)
    [event] = events("trainer.changed")
    assert event.new_values == {
        "accreditation_number": "(changed)",
        "accreditation_expires_on": "(changed)",
        "active_status": False,
    }
    assert "accreditation_number" not in event.old_values


# Creating a cohort's runs


def test_a_cohorts_runs_are_made_from_its_programme_with_course_enrolments(admin):
    first, later, elective = programme_with_courses()
    session = current_session()
    cohort = cohort_of(first)
    sipho, lerato = (
        enrol(admin, cohort=cohort),
        enrol(admin, cohort=cohort, full_name="Lerato Dube"),
    )
    gone = enrol(admin, cohort=cohort, full_name="Gone Away")
    enrollment_withdraw(enrollment=gone, actor=admin, reason="Moved away")
    trainer = TrainerFactory()

    made = cohort_runs_create(actor=admin, cohort=cohort, trainer=trainer, venue="Room 4")

    runs = {run.course_ref: run for run in CourseRun.objects.filter(cohort=cohort)}
    assert set(runs) == {"BA101", "BA201", "BA150"}
    assert len(made.runs) == 3
    run = runs["BA101"]
    assert (run.title, run.start_date, run.end_date) == (
        "Business Basics",
        cohort.start_date,
        cohort.end_date,
    )
    assert (run.trainer, run.venue, run.academic_session, run.status) == (
        trainer,
        "Room 4",
        session,
        "draft",
    )
    # Only the first core course: the later one needs BA101 completed, the elective is chosen.
    assert set(
        CourseEnrollment.objects.filter(course_run__cohort=cohort).values_list(
            "enrollment", "course_run__course_ref", "academic_session"
        )
    ) == {(sipho.pk, "BA101", session.pk), (lerato.pk, "BA101", session.pk)}
    assert made.enrolments == 2
    [event] = events("course_runs.created")
    assert event.entity_id == str(cohort.pk)
    assert sorted(event.new_values["runs"]) == ["BA101", "BA150", "BA201"]
    assert event.new_values["course_enrolments"] == 2


def test_creating_the_runs_again_makes_only_the_missing_ones(admin):
    first, _later, _elective = programme_with_courses()
    cohort = cohort_of(first)
    cohort_runs_create(actor=admin, cohort=cohort)
    with pytest.raises(ValidationError, match="has a run in this cohort already"):
        cohort_runs_create(actor=admin, cohort=cohort)
    assert CourseRun.objects.filter(cohort=cohort).count() == 3
    assert len(events("course_runs.created")) == 1


def test_a_cohort_without_a_programme_has_no_runs_to_create(admin):
    cohort = CohortFactory(active=True)
    with pytest.raises(ValidationError, match="no programme"):
        cohort_runs_create(actor=admin, cohort=cohort)
    assert not CourseRun.objects.filter(cohort=cohort).exists()


def test_a_closed_cohort_gets_no_runs(admin):
    first, _later, _elective = programme_with_courses()
    cohort = cohort_of(first, state="cancelled")
    with pytest.raises(ValidationError, match="cancelled"):
        cohort_runs_create(actor=admin, cohort=cohort)


def test_only_who_manages_delivery_creates_runs(institution):
    first, _later, _elective = programme_with_courses()
    cohort = cohort_of(first)
    trainer = TrainerFactory()
    with pytest.raises(PermissionDenied):
        cohort_runs_create(actor=trainer.user, cohort=cohort)
    assert not CourseRun.objects.filter(cohort=cohort).exists()
    assert events("permission.denied")[-1].entity_id == "delivery.cohort_runs_create"


def test_an_admin_limited_to_some_cohorts_creates_runs_only_there(institution):
    first, _later, _elective = programme_with_courses()
    cohort = cohort_of(first)
    limited = UserFactory(roles=[SystemRole.VERIFIER])
    role = Role.objects.create(name="Delivery officer")
    role.permissions.set(permissions_for(["delivery.manage_delivery"]))
    limited.roles.add(role)
    limited = User.objects.get(pk=limited.pk)
    with pytest.raises(PermissionDenied):
        cohort_runs_create(actor=limited, cohort=cohort)


# Enrolling in electives and later courses


@pytest.fixture
def runs(admin):
    first, later, elective = programme_with_courses()
    cohort = cohort_of(first)
    learner = enrol(admin, cohort=cohort, full_name="Sipho Student")
    cohort_runs_create(actor=admin, cohort=cohort)
    by_ref = {run.course_ref: run for run in CourseRun.objects.filter(cohort=cohort)}
    return learner, by_ref


def test_a_learner_is_enrolled_in_an_elective_without_prerequisites(admin, runs):
    learner, by_ref = runs
    assert run_learners_enrol(actor=admin, run=by_ref["BA150"], learners=[learner]) == 1
    assert CourseEnrollment.objects.filter(enrollment=learner, course_run=by_ref["BA150"]).exists()
    [event] = events("course_enrolments.created")
    assert event.entity_id == str(by_ref["BA150"].pk)
    assert event.new_values == {"enrolments": [learner.pk]}


def test_a_later_course_is_refused_until_its_prerequisite_is_completed(admin, runs):
    learner, by_ref = runs
    with pytest.raises(ValidationError) as refused:
        run_learners_enrol(actor=admin, run=by_ref["BA201"], learners=[learner])
    assert refused.value.messages == [
        "Sipho Student has not completed BA101 Business Basics, which BA201 requires."
    ]
    assert not CourseEnrollment.objects.filter(course_run=by_ref["BA201"]).exists()
    assert not events("course_enrolments.created")

    CourseEnrollment.objects.filter(enrollment=learner, course_run=by_ref["BA101"]).update(
        status=CourseEnrollmentStatus.COMPLETED
    )
    assert run_learners_enrol(actor=admin, run=by_ref["BA201"], learners=[learner]) == 1


def test_a_prerequisite_completed_in_an_earlier_cohort_counts(admin, runs):
    learner, by_ref = runs
    earlier = CourseEnrollmentFactory(
        enrollment=enrol(admin, email=learner.user.email),
        course_run__course=by_ref["BA101"].course,
        status=CourseEnrollmentStatus.COMPLETED,
    )
    assert earlier.enrollment.learner == learner.learner
    assert run_learners_enrol(actor=admin, run=by_ref["BA201"], learners=[learner]) == 1


def test_enrolling_past_the_runs_capacity_is_refused(admin, runs):
    learner, by_ref = runs
    other = enrol(admin, cohort=learner.cohort, full_name="Lerato Dube")
    CourseRun.objects.filter(pk=by_ref["BA150"].pk).update(capacity=1)
    with pytest.raises(ValidationError, match="takes 1 learners and has 0: 2 more"):
        run_learners_enrol(actor=admin, run=by_ref["BA150"], learners=[learner, other])
    assert not CourseEnrollment.objects.filter(course_run=by_ref["BA150"]).exists()


def test_a_learner_of_another_cohort_is_not_enrolled(admin, runs):
    _learner, by_ref = runs
    stranger = enrol(admin)
    with pytest.raises(ValidationError, match="Choose at least one learner"):
        run_learners_enrol(actor=admin, run=by_ref["BA150"], learners=[stranger])


# Changing a run


def _changes(run: CourseRun, **changed) -> RunChanges:
    values = {
        "title": run.title,
        "start_date": run.start_date,
        "end_date": run.end_date,
        "delivery_mode": run.delivery_mode,
        "venue": run.venue,
        "capacity": run.capacity,
        "trainer": run.trainer,
        **changed,
    }
    return RunChanges(**values)


def test_a_runs_dates_and_trainer_change_with_an_audit_event(admin, runs):
    _learner, by_ref = runs
    run = by_ref["BA101"]
    trainer = TrainerFactory()
    run_update(
        actor=admin,
        run=run,
        changes=_changes(run, end_date=datetime.date(2027, 6, 30), trainer=trainer),
    )
    run.refresh_from_db()
    assert (run.end_date, run.trainer) == (datetime.date(2027, 6, 30), trainer)
    [event] = events("course_run.changed")
    assert event.new_values == {"end_date": "2027-06-30", "trainer_id": trainer.pk}


def test_a_run_cannot_shrink_past_its_sessions(admin, runs):
    _learner, by_ref = runs
    run = by_ref["BA101"]
    SessionFactory(course_run=run, session_date=datetime.date(2027, 8, 2))
    with pytest.raises(ValidationError, match="02 Aug 2027 falls outside"):
        run_update(actor=admin, run=run, changes=_changes(run, end_date=datetime.date(2027, 6, 30)))
    run.refresh_from_db()
    assert run.end_date == datetime.date(2027, 11, 30)
