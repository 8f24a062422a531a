"""The attendance pages: the register as a trainer takes it (one tap, exceptions, sign-off,
corrections), who may open which page (everyone else gets 404), the learner's own attendance,
the cohort's rates and flags, the threshold, and query counts that do not grow with the
number of learners."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import SystemRole
from accounts.services import role_create
from audit.models import AuditEvent
from cohorts.services import cohort_reviewer_set
from delivery.models import AttendanceChange, AttendanceRecord
from delivery.services.attendance import (
    Mark,
    register_correct,
    register_save,
    register_sign_off,
)
from tests.delivery.attendance.support import all_marked, learners_enrol, session_today
from tests.factories import CohortFactory, CourseRunFactory, TrainerFactory, UserFactory

pytestmark = pytest.mark.django_db


def register_url(session) -> str:
    return reverse("delivery:register", args=[session.pk])


def marks_posted(learners, action: str = "save", **statuses: str) -> dict[str, str]:
    """The register form as posted: `statuses` by learner index ("s0": "absent"), the rest
    left unmarked."""
    data = {"action": action}
    for index, enrolment in enumerate(learners):
        status = statuses.get(f"s{index}", "")
        data[f"status-{enrolment.pk}"] = status
        data[f"reason-{enrolment.pk}"] = statuses.get(f"r{index}", "")
    return data


def test_a_trainer_marks_everyone_present_then_an_exception_and_signs_off(
    client_of, trainer, session, learners
):
    client = client_of(trainer.user)
    page = client.get(register_url(session))
    assert page.status_code == 200
    assert "Thandi Learner0000" in page.content.decode()
    assert "Mark everyone present" in page.content.decode()

    response = client.post(register_url(session), marks_posted(learners, "all_present"))
    assert response.status_code == 302
    assert AttendanceRecord.objects.filter(session=session, status="present").count() == 4

    data = marks_posted(learners, "sign_off", s0="present", s1="absent", r1="Clinic visit")
    data |= {f"status-{enrolment.pk}": "present" for enrolment in learners[2:]}
    response = client.post(register_url(session), data)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.register_signed_off_by == trainer.user
    assert AttendanceRecord.objects.get(enrolment=learners[1]).reason == "Clinic visit"
    page = client.get(register_url(session)).content.decode()
    assert "Signed off" in page
    assert "Why does the signed-off register change?" in page


def test_an_excused_absence_without_a_reason_is_shown_beside_the_learner(
    client_of, trainer, session, learners
):
    response = client_of(trainer.user).post(
        register_url(session), marks_posted(learners, s2="excused")
    )

    assert response.status_code == 400
    assert "An excused absence needs the reason it was accepted." in response.content.decode()
    assert not AttendanceRecord.objects.exists()


def test_signing_off_with_learners_unmarked_saves_the_marks_and_names_who_is_left(
    client_of, trainer, session, learners
):
    response = client_of(trainer.user).post(
        register_url(session), marks_posted(learners, "sign_off", s0="present", s1="late")
    )

    assert response.status_code == 400
    assert "not marked yet: Thandi Learner0002, Thandi Learner0003" in response.content.decode()
    assert AttendanceRecord.objects.filter(session=session).count() == 2
    session.refresh_from_db()
    assert not session.is_signed_off


@pytest.fixture
def signed_off(trainer, session, learners):
    register_save(session=session, actor=trainer.user, marks=all_marked(learners))
    register_sign_off(session=session, actor=trainer.user)
    return session


def test_a_correction_without_a_reason_is_refused_on_the_page(
    client_of, trainer, signed_off, learners
):
    data = marks_posted(learners, "correct", **{f"s{index}": "present" for index in range(4)})
    data[f"status-{learners[0].pk}"] = "absent"
    client = client_of(trainer.user)

    response = client.post(register_url(signed_off), data)

    assert response.status_code == 400
    assert "a correction needs its reason" in response.content.decode()
    assert not AttendanceChange.objects.exists()

    response = client.post(register_url(signed_off), data | {"change_reason": "Left early"})
    assert response.status_code == 302
    change = AttendanceChange.objects.get()
    assert (change.old_status, change.new_status, change.change_reason) == (
        "present",
        "absent",
        "Left early",
    )
    assert "Left early" in client.get(register_url(signed_off)).content.decode()


def test_the_moderator_of_the_run_sees_the_register_but_cannot_change_it(
    client_of, run, session, learners
):
    moderator = UserFactory(roles=[SystemRole.MODERATOR])
    run.moderator = moderator
    run.save(update_fields=["moderator"])
    client = client_of(moderator)

    page = client.get(register_url(session))

    assert page.status_code == 200
    assert "Thandi Learner0001" in page.content.decode()
    assert 'name="action"' not in page.content.decode()
    assert (
        client.post(register_url(session), marks_posted(learners, "all_present")).status_code == 404
    )
    assert not AttendanceRecord.objects.exists()


@pytest.mark.parametrize("who", ["other_trainer", "other_moderator", "learner", "stranger"])
def test_anyone_else_gets_404_for_the_register(client_of, run, session, learners, who):
    people = {
        "other_trainer": lambda: TrainerFactory().user,
        "other_moderator": lambda: UserFactory(roles=[SystemRole.MODERATOR]),
        "learner": lambda: learners[0].enrollment.user,
        "stranger": lambda: UserFactory(roles=[]),
    }
    client = client_of(people[who]())

    assert client.get(register_url(session)).status_code == 404
    assert (
        client.post(register_url(session), marks_posted(learners, "all_present")).status_code == 404
    )
    assert not AttendanceRecord.objects.exists()
    assert AuditEvent.objects.filter(action="permission.denied").exists()


def test_a_missing_session_is_404(client_of, trainer):
    assert (
        client_of(trainer.user).get(reverse("delivery:register", args=[999999])).status_code == 404
    )


def test_a_future_session_shows_that_its_register_opens_on_the_day(
    client_of, trainer, session_on, learners
):
    later = session_on(2)
    page = client_of(trainer.user).get(register_url(later)).content.decode()

    assert "The register opens on the day of the session." in page
    assert 'name="action"' not in page


def test_the_registers_left_to_take(client_of, trainer, session_on, learners):
    today, yesterday, tomorrow = session_on(0), session_on(-1), session_on(1)
    register_save(session=yesterday, actor=trainer.user, marks=all_marked(learners))
    register_sign_off(session=yesterday, actor=trainer.user)
    other = session_on(-2, trainer=TrainerFactory())

    page = client_of(trainer.user).get(reverse("delivery:registers")).content.decode()

    assert register_url(today) in page
    assert register_url(other) in page  # a session another trainer covers, of the run he teaches
    assert register_url(yesterday) not in page
    assert register_url(tomorrow) not in page
    assert client_of(TrainerFactory().user).get(reverse("delivery:registers")).status_code == 200
    student = learners[0].enrollment.user
    assert client_of(student).get(reverse("delivery:registers")).status_code == 404


def test_a_learner_sees_their_own_attendance_and_nobody_elses(
    client_of, trainer, session_on, learners
):
    for days in (-3, -2, -1):
        register_save(
            session=session_on(days),
            actor=trainer.user,
            marks={
                **all_marked(learners),
                learners[0].pk: Mark("absent" if days == -3 else "present"),
                learners[1].pk: Mark("excused", "Hospital letter"),
            },
        )
    url = reverse("delivery:my_attendance")

    mine = client_of(learners[0].enrollment.user).get(url).content.decode()
    theirs = client_of(learners[1].enrollment.user).get(url).content.decode()

    assert "67%" in mine
    assert "Under 80%" in mine
    assert "Hospital letter" not in mine
    assert "Hospital letter" in theirs
    assert "No sessions yet" in theirs  # excused every time: nothing counts yet
    assert "not enrolled in a course" in client_of(UserFactory(roles=[])).get(url).content.decode()


def test_the_cohort_page_flags_learners_under_the_threshold(
    client_of, admin, trainer, run, session_on, learners
):
    for days in (-4, -3, -2, -1):
        register_save(
            session=session_on(days),
            actor=trainer.user,
            marks={
                **all_marked(learners),
                learners[0].pk: Mark("absent" if days == -4 else "present"),  # 75%
                learners[1].pk: Mark("late"),  # 100%
                learners[2].pk: Mark("absent" if days < -2 else "present"),  # 50%
            },
        )
    url = reverse("delivery:cohort_attendance", args=[run.cohort.pk])
    client = client_of(admin)

    page = client.get(url).content.decode()
    assert page.count("Under 80%") == 2
    for rate in ("75%", "50%", "100%"):
        assert rate in page

    flagged = client.get(url, {"flagged": "1"}).content.decode()
    assert "Thandi Learner0000" in flagged
    assert "Thandi Learner0002" in flagged
    assert "Thandi Learner0001" not in flagged

    client.post(reverse("delivery:attendance_threshold"), {"percent": "60"})
    page = client.get(url).content.decode()
    assert page.count("Under 60%") == 1


def test_the_cohort_attendance_page_follows_the_cohorts_a_person_reaches(
    client_of, admin, super_admin, run, trainer, learners
):
    coordinator = role_create(
        actor=super_admin,
        name="Delivery coordinator",
        description="Sets up delivery in the cohorts they are given.",
        permission_codes=["delivery.manage_delivery"],
    )
    limited = UserFactory(roles=[SystemRole.VERIFIER, coordinator])
    cohort_reviewer_set(cohort=run.cohort, actor=admin, reviewer=limited, allowed=True)
    other = CohortFactory(active=True)
    reached = reverse("delivery:cohort_attendance", args=[run.cohort.pk])
    not_reached = reverse("delivery:cohort_attendance", args=[other.pk])

    assert client_of(limited).get(reached).status_code == 200
    assert client_of(limited).get(not_reached).status_code == 404
    assert client_of(admin).get(not_reached).status_code == 200
    assert client_of(trainer.user).get(reached).status_code == 404
    assert client_of(learners[0].enrollment.user).get(reached).status_code == 404
    assert client_of(UserFactory(roles=[SystemRole.AUDITOR])).get(reached).status_code == 404
    assert (
        client_of(admin).get(reverse("delivery:cohort_attendance", args=[999999])).status_code
        == 404
    )


def test_the_threshold_page_is_for_who_manages_delivery(client_of, admin, trainer):
    url = reverse("delivery:attendance_threshold")
    assert client_of(trainer.user).get(url).status_code == 404

    client = client_of(admin)
    assert "Now 80%" in client.get(url).content.decode()
    response = client.post(url, {"percent": "150"})
    assert response.status_code == 200
    assert "less than or equal to 100" in response.content.decode()
    assert client.post(url, {"percent": "85"}).status_code == 302
    assert "Now 85%" in client.get(url).content.decode()
    assert AuditEvent.objects.filter(action="attendance.threshold_changed").count() == 1


@pytest.fixture
def page_queries():
    """The number of queries of `url` once warm (a first request fills the caches)."""

    def count(client, url: str) -> int:
        assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    return count


@pytest.mark.parametrize("signed", [False, True])
def test_the_register_makes_as_many_queries_for_200_learners_as_for_10(
    client_of, trainer, page_queries, signed
):
    counts = []
    for hour, size in ((8, 10), (9, 200)):
        run = CourseRunFactory(trainer=trainer)
        enrolled = learners_enrol(run, size)
        taken = session_today(run, hour)
        register_save(session=taken, actor=trainer.user, marks=all_marked(enrolled))
        if signed:
            register_sign_off(session=taken, actor=trainer.user)
            register_correct(
                session=taken,
                actor=trainer.user,
                marks={enrolment.pk: Mark("late") for enrolment in enrolled[::2]},
                change_reason="Clock was fast",
            )
        counts.append(page_queries(client_of(trainer.user), register_url(taken)))
    assert counts[0] == counts[1]


def test_the_cohort_attendance_page_makes_as_many_queries_for_200_learners_as_for_10(
    client_of, admin, trainer, page_queries
):
    counts = []
    for hour, size in ((8, 10), (9, 200)):
        run = CourseRunFactory(trainer=trainer)
        enrolled = learners_enrol(run, size)
        taken = session_today(run, hour)
        register_save(
            session=taken,
            actor=trainer.user,
            marks={**all_marked(enrolled), enrolled[0].pk: Mark("absent")},
        )
        url = reverse("delivery:cohort_attendance", args=[run.cohort.pk])
        counts.append(page_queries(client_of(admin), url))
    assert counts[0] == counts[1]
