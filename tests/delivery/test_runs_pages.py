"""The pages of trainers, runs, sessions and calendars: what each person reaches, and that the
wrong person gets 404 (a trainer of another run, a learner of another cohort)."""

import datetime

import pytest
from django.urls import reverse

from accounts.models import Role, SystemRole
from accounts.roles import permissions_for
from accounts.services import role_create
from cohorts.services import cohort_reviewer_set
from delivery.models import CourseRun, Session, Trainer
from tests.delivery.runs_support import MONDAY, cohort_of, enrol, programme_with_courses
from tests.factories import (
    CourseEnrollmentFactory,
    CourseRunFactory,
    SessionFactory,
    TrainerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(institution):
    return CourseRunFactory(
        course__code="BA101", course__name="Business Basics", venue="Room 4",
        start_date=datetime.date(2027, 2, 1),
    )  # fmt: skip


def test_an_admin_creates_a_cohorts_runs_from_its_delivery_page(admin, admin_client):
    first, _later, _elective = programme_with_courses()
    cohort = cohort_of(first, name="Plumbing 2027")
    learner = enrol(admin, cohort=cohort)
    dashboard = admin_client.get(reverse("cohorts:dashboard", args=[cohort.pk]))
    assert reverse("delivery:cohort", args=[cohort.pk]) in dashboard.content.decode()

    page = admin_client.get(reverse("delivery:cohort", args=[cohort.pk]))
    assert "Create 3 course runs" in page.content.decode()
    trainer = TrainerFactory()
    response = admin_client.post(
        reverse("delivery:cohort_runs_create", args=[cohort.pk]),
        {"trainer": trainer.pk, "delivery_mode": "blended", "venue": "Room 4"},
        follow=True,
    )
    assert "3 course runs created; 1 course enrolment made" in response.content.decode()
    assert (
        CourseRun.objects.filter(cohort=cohort, trainer=trainer, delivery_mode="blended").count()
        == 3
    )
    assert learner.course_enrollments.count() == 1


def test_a_weekly_schedule_from_the_run_page_and_a_clash_refused(admin_client, run):
    response = admin_client.post(
        reverse("delivery:session_schedule", args=[run.pk]),
        {"weekdays": ["0"], "first": "2027-03-01", "last": "2027-03-28",
         "start_time": "09:00", "end_time": "12:00"},
        follow=True,
    )  # fmt: skip
    text = response.content.decode()
    assert "3 sessions scheduled. Skipped: 22 Mar (Human Rights Day (observed))." in text
    other = CourseRunFactory(trainer=run.trainer, course__code="BA900", course__name="Ethics")
    response = admin_client.post(
        reverse("delivery:session_add", args=[other.pk]),
        {"session_date": "2027-03-08", "start_time": "10:00", "end_time": "11:00"},
    )
    assert response.status_code == 400
    assert "already teaches BA101 Business Basics" in response.content.decode()
    assert not Session.objects.filter(course_run=other).exists()


def test_a_trainer_reaches_only_the_runs_they_teach(client_of, run):
    client = client_of(run.trainer.user)
    SessionFactory(course_run=run, session_date=MONDAY)
    assert client.get(reverse("delivery:run", args=[run.pk])).status_code == 200
    home = client.get(reverse("delivery:home")).content.decode()
    assert "BA101 Business Basics" in home
    other = CourseRunFactory()
    assert client.get(reverse("delivery:run", args=[other.pk])).status_code == 404
    # Teaching a run does not make its schedule theirs to change.
    assert client.get(reverse("delivery:session_add", args=[run.pk])).status_code == 404
    assert client.get(reverse("delivery:cohort", args=[run.cohort_id])).status_code == 404
    assert client.get(reverse("delivery:trainers")).status_code == 404


def test_a_learner_sees_only_their_own_schedule(admin, client_of, run):
    learner = enrol(admin, cohort=run.cohort)
    CourseEnrollmentFactory(enrollment=learner, course_run=run)
    SessionFactory(course_run=run, session_date=MONDAY)
    stranger = enrol(admin)
    mine = client_of(learner.user).get(reverse("delivery:my_schedule"), {"month": "2027-03"})
    assert "BA101 Business Basics" in mine.content.decode()
    theirs = client_of(stranger.user).get(reverse("delivery:my_schedule"), {"month": "2027-03"})
    assert "BA101" not in theirs.content.decode()
    assert client_of(learner.user).get(reverse("delivery:run", args=[run.pk])).status_code == 404


def test_a_moderator_opens_only_the_run_they_moderate(client_of, run):
    moderator = UserFactory(roles=[SystemRole.MODERATOR])
    CourseRun.objects.filter(pk=run.pk).update(moderator=moderator)
    client = client_of(moderator)
    assert client.get(reverse("delivery:run", args=[run.pk])).status_code == 200
    assert client.get(reverse("delivery:run", args=[CourseRunFactory().pk])).status_code == 404


def test_the_trainers_pages(admin_client, client_of):
    """Who manages delivery but may not give the trainer role sees no "New trainer"; an admin
    does, and adds one."""
    role = Role.objects.create(name="Delivery clerk")
    role.permissions.set(permissions_for(["delivery.manage_delivery"]))
    clerk_client = client_of(UserFactory(roles=[role]))
    assert "New trainer" not in clerk_client.get(reverse("delivery:trainers")).content.decode()
    assert clerk_client.get(reverse("delivery:trainer_create")).status_code == 404
    assert "New trainer" in admin_client.get(reverse("delivery:trainers")).content.decode()
    response = admin_client.post(
        reverse("delivery:trainer_create"),
        {"name": "Thandi Trainer", "email": "thandi@example.org", "active_status": "on"},
        follow=True,
    )
    assert "Thandi Trainer is a trainer now." in response.content.decode()
    trainer = Trainer.objects.get(email="thandi@example.org")
    assert "Thandi Trainer" in admin_client.get(reverse("delivery:trainers")).content.decode()
    again = admin_client.post(
        reverse("delivery:trainer_create"),
        {"name": "Thandi", "email": "thandi@example.org", "active_status": "on"},
    )
    assert "is a trainer already" in again.content.decode()
    assert admin_client.get(reverse("delivery:trainer", args=[trainer.pk])).status_code == 200


def test_cancelling_and_moving_from_the_pages(admin_client, run):
    session = SessionFactory(course_run=run, session_date=MONDAY)
    assert admin_client.get(reverse("delivery:session_move", args=[session.pk])).status_code == 200
    admin_client.post(
        reverse("delivery:session_move", args=[session.pk]),
        {"session_date": "2027-03-02", "start_time": "09:00", "end_time": "12:00",
         "venue": "Hall", "trainer": run.trainer_id},
    )  # fmt: skip
    session.refresh_from_db()
    assert (session.session_date, session.venue) == (datetime.date(2027, 3, 2), "Hall")
    refused = admin_client.post(reverse("delivery:session_cancel", args=[session.pk]), {})
    assert refused.status_code == 400
    admin_client.post(reverse("delivery:session_cancel", args=[session.pk]), {"reason": "Strike"})
    session.refresh_from_db()
    assert session.status == "cancelled"


def test_a_feed_address_is_shown_once_from_the_schedule_page(admin, client_of, run):
    learner = enrol(admin, cohort=run.cohort)
    CourseEnrollmentFactory(enrollment=learner, course_run=run)
    client = client_of(learner.user)
    response = client.post(reverse("delivery:feed_issue", args=["learner"]))
    assert "It is shown only now" in response.content.decode()
    assert "New address" in client.get(reverse("delivery:my_schedule")).content.decode()
    assert client.post(reverse("delivery:feed_issue", args=["nobody"])).status_code == 404


def test_a_trainers_home_has_the_month_of_their_own_sessions(client_of, run):
    SessionFactory(course_run=run, session_date=MONDAY, venue="Room 4")
    someone_else = CourseRunFactory(course__code="ZZ900", course__name="Not Mine")
    SessionFactory(course_run=someone_else, session_date=MONDAY)
    month = f"{MONDAY:%Y-%m}"
    page = client_of(run.trainer.user).get(reverse("delivery:home"), {"month": month})
    text = page.content.decode()
    assert f"{MONDAY:%B %Y}" in text
    assert f"{MONDAY:%a} {MONDAY.day} {MONDAY:%b}" in text
    assert "ZZ900" not in text


def test_a_trainers_page_shows_only_the_runs_and_sessions_of_the_cohorts_one_reaches(
    client_of, admin, super_admin, run
):
    coordinator = role_create(
        actor=super_admin,
        name="Delivery coordinator",
        description="Sets up delivery in the cohorts they are given.",
        permission_codes=["delivery.manage_delivery"],
    )
    limited = UserFactory(roles=[SystemRole.VERIFIER, coordinator])
    cohort_reviewer_set(cohort=run.cohort, actor=admin, reviewer=limited, allowed=True)
    trainer = run.trainer
    elsewhere = CourseRunFactory(
        trainer=trainer, course__code="NU900", course__name="Ward Ethics", cohort__name="Nursing"
    )
    SessionFactory(course_run=run, session_date=MONDAY)
    SessionFactory(course_run=elsewhere, session_date=MONDAY + datetime.timedelta(days=1))
    url = reverse("delivery:trainer", args=[trainer.pk]) + "?month=2027-03"

    page = client_of(limited).get(url).content.decode()
    assert "BA101" in page
    assert "NU900" not in page
    assert "Nursing" not in page
    listed = client_of(limited).get(reverse("delivery:trainers")).context["page"]
    assert [(t.pk, t.run_count) for t in listed] == [(trainer.pk, 1)]
    everything = client_of(admin).get(url).content.decode()
    assert "BA101" in everything
    assert "NU900" in everything
