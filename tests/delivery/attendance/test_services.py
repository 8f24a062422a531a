"""Registers: marking (everyone present in one tap, exceptions with reasons), sign-off,
corrections after sign-off (a reason, the history, an audit event each) and the attendance
threshold; each rule with its refusal and its audit event."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import SystemRole
from accounts.services import role_create
from audit.models import AuditEvent
from cohorts.services import cohort_reviewer_set
from delivery.models import AttendanceChange, AttendanceRecord, CourseEnrollmentStatus
from delivery.selectors.attendance import attendance_threshold, register_rows
from delivery.services.attendance import (
    Mark,
    attendance_threshold_set,
    register_correct,
    register_save,
    register_sign_off,
)
from enrolments.models import CohortEnrollment
from tests.delivery.attendance.support import all_marked, learners_enrol
from tests.factories import CourseRunFactory, TrainerFactory, UserFactory

pytestmark = pytest.mark.django_db


def statuses(session) -> dict[int, tuple[str, str]]:
    return {
        record.enrolment_id: (record.status, record.reason)
        for record in AttendanceRecord.objects.filter(session=session)
    }


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def test_a_trainer_marks_the_exceptions_and_everyone_else_present_in_one_tap(
    trainer, session, learners
):
    first, second, *_rest = learners
    changed = register_save(
        session=session,
        actor=trainer.user,
        marks={
            first.pk: Mark("absent", "No word from her"),
            second.pk: Mark("late", "Taxi strike"),
        },
        rest_present=True,
    )

    assert changed == 4
    assert statuses(session) == {
        first.pk: ("absent", "No word from her"),
        second.pk: ("late", "Taxi strike"),
        **{enrolment.pk: ("present", "") for enrolment in learners[2:]},
    }
    assert set(AttendanceRecord.objects.values_list("recorded_by", flat=True)) == {trainer.user.pk}
    (event,) = events("attendance.register_saved")
    assert event.actor == trainer.user
    assert event.entity_id == str(session.pk)
    assert event.new_values == {
        "changed": 4,
        "everyone_else_present": True,
        "present": 2,
        "late": 1,
        "absent": 1,
        "excused": 0,
        "unknown": 0,
    }


def test_one_tap_leaves_the_exceptions_already_saved(trainer, session, learners):
    register_save(session=session, actor=trainer.user, marks={learners[0].pk: Mark("absent")})

    register_save(session=session, actor=trainer.user, marks={}, rest_present=True)

    assert [status for status, _reason in statuses(session).values()].count("absent") == 1
    assert statuses(session)[learners[0].pk] == ("absent", "")


def test_saving_again_writes_only_what_changed(trainer, session, learners):
    register_save(session=session, actor=trainer.user, marks=all_marked(learners))

    changed = register_save(
        session=session,
        actor=trainer.user,
        marks={**all_marked(learners), learners[3].pk: Mark("absent")},
    )

    assert changed == 1
    assert len(events("attendance.register_saved")) == 2
    assert register_save(session=session, actor=trainer.user, marks={}) == 0
    assert len(events("attendance.register_saved")) == 2


def test_an_excused_absence_without_its_reason_is_refused_and_nothing_saved(
    trainer, session, learners
):
    with pytest.raises(ValidationError) as refusal:
        register_save(
            session=session,
            actor=trainer.user,
            marks={**all_marked(learners), learners[1].pk: Mark("excused", "  ")},
        )

    assert "Thandi Learner0001: an excused absence needs the reason" in refusal.value.messages[0]
    assert not AttendanceRecord.objects.exists()
    assert not events("attendance.register_saved")


def test_a_present_learner_keeps_no_reason(trainer, session, learners):
    register_save(
        session=session, actor=trainer.user, marks={learners[0].pk: Mark("present", "On time")}
    )

    assert statuses(session)[learners[0].pk] == ("present", "")


def test_a_learner_of_another_run_is_not_on_the_register(trainer, session, learners):
    stranger = learners_enrol(CourseRunFactory(trainer=trainer), 1)[0]

    with pytest.raises(
        ValidationError, match=f"Not on this register: course enrolment {stranger.pk}"
    ):
        register_save(session=session, actor=trainer.user, marks={stranger.pk: Mark("present")})


def test_a_learner_who_dropped_or_withdrew_leaves_the_register_unless_already_marked(
    trainer, session_on, learners
):
    marked_before = session_on(-1)
    register_save(session=marked_before, actor=trainer.user, marks=all_marked(learners))
    learners[0].status = CourseEnrollmentStatus.DROPPED
    learners[0].save(update_fields=["status"])

    CohortEnrollment.objects.filter(pk=learners[1].enrollment_id).update(state="withdrawn")

    today = session_on(0)

    assert [row.enrolment for row in register_rows(today)] == learners[2:]
    assert len(register_rows(marked_before)) == 4


@pytest.mark.parametrize(
    ("days", "fields", "message"),
    [
        (1, {}, "its register opens on the day"),
        (0, {"status": "cancelled"}, "This session was cancelled"),
    ],
)
def test_a_future_or_cancelled_session_has_no_register(
    trainer, session_on, learners, days, fields, message
):
    later = session_on(days, **fields)

    with pytest.raises(ValidationError, match=message):
        register_save(session=later, actor=trainer.user, marks=all_marked(learners))
    with pytest.raises(ValidationError, match=message):
        register_sign_off(session=later, actor=trainer.user)
    assert not AttendanceRecord.objects.exists()


def test_an_admin_who_manages_delivery_may_take_the_register(admin, session, learners):
    assert register_save(session=session, actor=admin, marks=all_marked(learners)) == 4


@pytest.mark.parametrize("who", ["other_trainer", "moderator", "student", "auditor"])
def test_only_who_teaches_the_run_takes_its_register(session, learners, run, who):
    people = {
        "other_trainer": lambda: TrainerFactory().user,
        "moderator": lambda: UserFactory(roles=[SystemRole.MODERATOR]),
        "student": lambda: learners[0].enrollment.user,
        "auditor": lambda: UserFactory(roles=[SystemRole.AUDITOR]),
    }
    actor = people[who]()
    if who == "moderator":
        run.moderator = actor
        run.save(update_fields=["moderator"])

    with pytest.raises(PermissionDenied):
        register_save(session=session, actor=actor, marks=all_marked(learners))
    with pytest.raises(PermissionDenied):
        register_sign_off(session=session, actor=actor)

    assert not AttendanceRecord.objects.exists()
    assert [event.entity_id for event in events("permission.denied")] == [
        "attendance.register_save",
        "attendance.register_sign_off",
    ]


def test_the_trainer_of_one_session_of_another_trainers_run_takes_its_register(
    run, learners, session_on
):
    stand_in = TrainerFactory()
    covered = session_on(0, trainer=stand_in)

    assert register_save(session=covered, actor=stand_in.user, marks=all_marked(learners)) == 4


def test_signing_off_needs_everyone_marked(trainer, session, learners):
    register_save(session=session, actor=trainer.user, marks=all_marked(learners[:2]))

    with pytest.raises(ValidationError) as refusal:
        register_sign_off(session=session, actor=trainer.user)

    assert refusal.value.messages == [
        "Mark everyone before signing off; not marked yet: Thandi Learner0002, Thandi Learner0003."
    ]
    session.refresh_from_db()
    assert not session.is_signed_off
    assert not events("attendance.register_signed_off")


def test_an_empty_register_is_not_signed_off(trainer, session):
    with pytest.raises(ValidationError, match="Nobody is on this register"):
        register_sign_off(session=session, actor=trainer.user)


def test_signing_off_closes_the_register_to_plain_saves(trainer, session, learners):
    register_save(
        session=session,
        actor=trainer.user,
        marks={learners[0].pk: Mark("excused", "Funeral, letter seen")},
        rest_present=True,
    )

    register_sign_off(session=session, actor=trainer.user)

    session.refresh_from_db()
    assert session.register_signed_off_by == trainer.user
    assert session.register_signed_off_at is not None
    assert set(
        AttendanceRecord.objects.filter(session=session).values_list("signed_off_at", flat=True)
    ) == {session.register_signed_off_at}
    (event,) = events("attendance.register_signed_off")
    assert event.entity_id == str(session.pk)
    assert event.new_values["present"] == 3
    assert event.new_values["excused"] == 1
    with pytest.raises(ValidationError, match="a change now is a correction"):
        register_save(session=session, actor=trainer.user, marks={learners[1].pk: Mark("absent")})
    with pytest.raises(ValidationError, match="signed off already"):
        register_sign_off(session=session, actor=trainer.user)
    assert statuses(session)[learners[1].pk] == ("present", "")


@pytest.fixture
def signed_off(trainer, session, learners):
    register_save(session=session, actor=trainer.user, marks=all_marked(learners))
    register_sign_off(session=session, actor=trainer.user)
    session.refresh_from_db()
    return session


def test_a_correction_after_sign_off_keeps_the_earlier_value_and_is_audited(
    trainer, signed_off, learners
):
    changed = register_correct(
        session=signed_off,
        actor=trainer.user,
        marks={
            **all_marked(learners),
            learners[2].pk: Mark("absent", "Left at tea"),
            learners[3].pk: Mark("late"),
        },
        change_reason="Checked against the sign-in sheet",
    )

    assert changed == 2
    assert statuses(signed_off)[learners[2].pk] == ("absent", "Left at tea")
    history = AttendanceChange.objects.filter(record__enrolment=learners[2]).get()
    assert (history.old_status, history.old_reason, history.new_status) == (
        "present",
        "",
        "absent",
    )
    assert history.change_reason == "Checked against the sign-in sheet"
    assert history.changed_by == trainer.user
    corrected = events("attendance.corrected")
    assert [event.entity_id for event in corrected] == [
        str(AttendanceRecord.objects.get(enrolment=learners[index]).pk) for index in (2, 3)
    ]
    assert corrected[0].old_values == {"status": "present"}
    # The reasons stay out of the trail: they may be about someone's health.
    assert corrected[0].new_values == {
        "status": "absent",
        "reason": "(changed)",
        "change_reason": "(changed)",
    }
    record = AttendanceRecord.objects.get(enrolment=learners[2])
    assert record.signed_off_at == signed_off.register_signed_off_at


def test_a_correction_without_a_reason_is_refused_and_nothing_changes(
    trainer, signed_off, learners
):
    with pytest.raises(ValidationError, match="a correction needs its reason"):
        register_correct(
            session=signed_off,
            actor=trainer.user,
            marks={learners[0].pk: Mark("absent")},
            change_reason="   ",
        )

    assert statuses(signed_off)[learners[0].pk] == ("present", "")
    assert not AttendanceChange.objects.exists()
    assert not events("attendance.corrected")


def test_a_correction_that_changes_nothing_writes_nothing(trainer, signed_off, learners):
    assert (
        register_correct(
            session=signed_off, actor=trainer.user, marks=all_marked(learners), change_reason=""
        )
        == 0
    )
    assert not events("attendance.corrected")


def test_a_correction_cannot_unmark_a_learner(trainer, signed_off, learners):
    with pytest.raises(ValidationError, match="marks everyone"):
        register_correct(
            session=signed_off,
            actor=trainer.user,
            marks={learners[0].pk: Mark("unknown")},
            change_reason="Not sure",
        )


def test_a_register_not_signed_off_is_not_corrected(trainer, session, learners):
    with pytest.raises(ValidationError, match="not signed off yet"):
        register_correct(
            session=session,
            actor=trainer.user,
            marks=all_marked(learners),
            change_reason="Early",
        )


def test_a_trainer_of_another_run_cannot_correct(signed_off, learners):
    with pytest.raises(PermissionDenied):
        register_correct(
            session=signed_off,
            actor=TrainerFactory().user,
            marks={learners[0].pk: Mark("absent")},
            change_reason="Because",
        )
    assert not AttendanceChange.objects.exists()


def test_saving_a_register_takes_as_many_queries_for_200_learners_as_for_10(
    trainer, run, session_on
):
    def save_queries(count: int, start: int) -> int:
        enrolled = learners_enrol(run, count, start=start)
        taken = session_on(0)
        # Only the learners just enrolled: mark the others as dropped for this measure.
        marks = {**all_marked(enrolled), enrolled[0].pk: Mark("absent", "Sick")}
        with CaptureQueriesContext(connection) as queries:
            assert (
                register_save(session=taken, actor=trainer.user, marks=marks, rest_present=True)
                == count
            )
        for enrolment in enrolled:
            enrolment.status = CourseEnrollmentStatus.DROPPED
        type(enrolled[0]).objects.bulk_update(enrolled, ["status"])
        return len(queries)

    save_queries(3, 0)  # caches warm up (the actor's permissions)
    assert save_queries(10, 3) == save_queries(200, 13)


def test_the_threshold_is_80_until_changed_by_who_manages_delivery(admin, institution):
    assert attendance_threshold(institution) == 80

    attendance_threshold_set(institution=institution, actor=admin, percent=75)

    institution.refresh_from_db()
    assert attendance_threshold(institution) == 75
    (event,) = events("attendance.threshold_changed")
    assert event.old_values == {"attendance_threshold": 80}
    assert event.new_values == {"attendance_threshold": 75}


@pytest.mark.parametrize("percent", [0, 101])
def test_the_threshold_is_a_percentage(admin, institution, percent):
    with pytest.raises(ValidationError, match="from 1 to 100"):
        attendance_threshold_set(institution=institution, actor=admin, percent=percent)
    institution.refresh_from_db()
    assert attendance_threshold(institution) == 80


def test_a_trainer_cannot_change_the_threshold(trainer, institution):
    with pytest.raises(PermissionDenied):
        attendance_threshold_set(institution=institution, actor=trainer.user, percent=50)
    institution.refresh_from_db()
    assert attendance_threshold(institution) == 80
    assert [event.entity_id for event in events("permission.denied")] == [
        "attendance.threshold_set"
    ]


def test_someone_limited_to_some_cohorts_cannot_change_the_threshold(
    admin, super_admin, institution, run, client_of
):
    coordinator = role_create(
        actor=super_admin,
        name="Delivery coordinator",
        description="Sets up delivery in the cohorts they are given.",
        permission_codes=["delivery.manage_delivery"],
    )
    limited = UserFactory(roles=[SystemRole.VERIFIER, coordinator])
    cohort_reviewer_set(cohort=run.cohort, actor=admin, reviewer=limited, allowed=True)

    with pytest.raises(PermissionDenied):
        attendance_threshold_set(institution=institution, actor=limited, percent=50)
    institution.refresh_from_db()
    assert attendance_threshold(institution) == 80
    assert [event.entity_id for event in events("permission.denied")] == [
        "attendance.threshold_set"
    ]
    client = client_of(limited)
    assert client.get(reverse("delivery:attendance_threshold")).status_code == 404
    page = client.get(reverse("delivery:cohort_attendance", args=[run.cohort.pk]))
    assert page.status_code == 200
    assert reverse("delivery:attendance_threshold") not in page.content.decode()
