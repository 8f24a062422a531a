"""The logbook: a learner logs days of a placement in weeks, hands a week in, the mentor
confirms it or returns it with a comment; who may do what (the learner writes, their current
mentor reviews, staff read, anyone else gets 404); date and hours rules; hours per outcome;
evidence files; the pages."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, SystemRole, User
from audit.models import AuditEvent
from enrolments.uploads import document_upload_check
from notifications.models import OutboundEmail
from placements.models import OrganisationMembership, Placement, PlacementStatus
from tests.factories import UserFactory
from tests.files import png_bytes
from tests.placements.factories import OrganisationFactory
from tests.workplace.support import Placed, Workplace, member_of, week_logged, workplace_world
from workplace.access import is_mentor
from workplace.models import (
    LogbookEntry,
    LogbookEvidence,
    LogbookReview,
    LogbookWeek,
    LogbookWeekStatus,
    Mentorship,
)
from workplace.selectors.logbook import hours_summary
from workplace.services.evidence import evidence_document_type
from workplace.services.logbook import (
    entry_add,
    entry_delete,
    entry_evidence_add,
    entry_update,
    week_confirm,
    week_monday,
    week_return,
    week_submit,
)

TODAY = timezone.localdate()
THIS_MONDAY = week_monday(TODAY)
LAST_MONDAY = THIS_MONDAY - datetime.timedelta(days=7)


def running(world: Workplace) -> Workplace:
    """Every placement of the world runs now: from four weeks ago to two months ahead."""
    Placement.objects.filter(pk__in=[p.placement.pk for p in world.placed]).update(
        starts_on=THIS_MONDAY - datetime.timedelta(days=28),
        ends_on=TODAY + datetime.timedelta(days=60),
    )
    for placed in world.placed:
        placed.placement.refresh_from_db()
    return world


@pytest.fixture
def world(admin) -> Workplace:
    return running(workplace_world(admin))


def log(
    placed: Placed, day: datetime.date, hours: str = "7.5", outcomes=(), tasks="Taught"
) -> LogbookEntry:
    return entry_add(
        actor=placed.user,
        placement=placed.placement,
        entry_date=day,
        hours=Decimal(hours),
        tasks=tasks,
        outcomes=list(outcomes),
    )


def handed_in(world: Workplace, days: int = 2, outcomes=()) -> LogbookWeek:
    for day in range(days):
        log(world.learner, LAST_MONDAY + datetime.timedelta(days=day), outcomes=outcomes)
    week = LogbookWeek.objects.get(placement=world.learner.placement, week_starts_on=LAST_MONDAY)
    return week_submit(actor=world.learner.user, week=week)


def messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Entries ----------------------------------------------------------------------------------


def test_an_entry_goes_into_the_week_of_its_day_made_on_first_use(world):
    first, second, _ = world.outcomes
    entry = log(world.learner, LAST_MONDAY + datetime.timedelta(days=2), outcomes=[first, second])
    week = entry.week
    assert week.week_starts_on == LAST_MONDAY
    assert week.status == LogbookWeekStatus.OPEN
    assert set(entry.outcomes.all()) == {first, second}
    again = log(world.learner, LAST_MONDAY + datetime.timedelta(days=3))
    assert again.week == week
    assert AuditEvent.objects.filter(action="logbook.entry_add").count() == 2
    assert AuditEvent.objects.filter(action="logbook.week_start").count() == 1
    event = AuditEvent.objects.filter(action="logbook.entry_add").first()
    assert "Taught" not in str(event.new_values)


@pytest.mark.parametrize(
    ("shift", "hours", "field", "message"),
    [
        (1, "7.5", "entry_date", "has not come yet"),
        (-400, "7.5", "entry_date", "Choose a day of the placement"),
        (0, "7.3", "hours", "quarter hours"),
        (0, "0", "hours", "from 0.25 to 24"),
        (0, "24.25", "hours", "from 0.25 to 24"),
    ],
)
def test_the_day_and_hours_are_checked(world, shift, hours, field, message):
    with pytest.raises(ValidationError) as refused:
        log(world.learner, TODAY + datetime.timedelta(days=shift), hours=hours)
    assert field in refused.value.error_dict
    assert message in messages_of(refused.value)
    assert not LogbookEntry.objects.exists()


def test_a_day_has_at_most_24_hours_across_its_entries(world):
    log(world.learner, LAST_MONDAY, hours="16")
    with pytest.raises(ValidationError, match="already has 16 hours"):
        log(world.learner, LAST_MONDAY, hours="8.25")
    log(world.learner, LAST_MONDAY, hours="8")


def test_tasks_are_needed_and_outcomes_come_from_the_programme(world, admin):
    with pytest.raises(ValidationError) as refused:
        log(world.learner, LAST_MONDAY, tasks="   ")
    assert "tasks" in refused.value.error_dict
    other = workplace_world(admin)
    with pytest.raises(ValidationError) as refused:
        log(world.learner, LAST_MONDAY, outcomes=[other.outcomes[0]])
    assert "outcomes" in refused.value.error_dict


@pytest.mark.parametrize(
    "status", [PlacementStatus.PROPOSED, PlacementStatus.COMPLETED, PlacementStatus.CANCELLED]
)
def test_entries_are_written_only_while_the_placement_runs(world, status):
    Placement.objects.filter(pk=world.learner.placement.pk).update(status=status)
    with pytest.raises(ValidationError, match="while the placement runs"):
        log(world.learner, LAST_MONDAY)


def test_a_confirmed_placement_takes_entries_once_it_has_started(world):
    Placement.objects.filter(pk=world.learner.placement.pk).update(status=PlacementStatus.CONFIRMED)
    assert log(world.learner, LAST_MONDAY).pk


def test_only_the_learner_writes_their_logbook(world):
    [other] = world.learners_add(1)
    for actor in (world.mentor, other.user, world.admin):
        with pytest.raises(PermissionDenied):
            entry_add(
                actor=actor,
                placement=world.learner.placement,
                entry_date=LAST_MONDAY,
                hours=Decimal("1"),
                tasks="Not mine",
                outcomes=[],
            )
    assert not LogbookEntry.objects.exists()


def test_an_entry_is_changed_within_its_week_and_removed_while_editable(world):
    entry = log(world.learner, LAST_MONDAY)
    entry_update(
        actor=world.learner.user,
        entry=entry,
        entry_date=LAST_MONDAY + datetime.timedelta(days=1),
        hours=Decimal("6"),
        tasks="Marked tests",
        outcomes=[world.outcomes[2]],
    )
    entry.refresh_from_db()
    assert entry.hours == Decimal("6")
    assert list(entry.outcomes.all()) == [world.outcomes[2]]
    with pytest.raises(ValidationError, match="another week's work"):
        entry_update(
            actor=world.learner.user,
            entry=entry,
            entry_date=THIS_MONDAY,
            hours=Decimal("6"),
            tasks="Marked tests",
            outcomes=[],
        )
    week = entry_delete(actor=world.learner.user, entry=entry)
    assert not LogbookEntry.objects.filter(pk=entry.pk).exists()
    assert LogbookWeek.objects.filter(pk=week.pk).exists()


# --- Handing in and reviewing -----------------------------------------------------------------


def test_a_week_is_handed_in_with_an_entry_and_the_mentor_is_emailed(world):
    empty = LogbookWeek.objects.create(
        placement=world.learner.placement, week_starts_on=THIS_MONDAY
    )
    with pytest.raises(ValidationError, match="Add an entry"):
        week_submit(actor=world.learner.user, week=empty)
    week = handed_in(world)
    assert week.status == LogbookWeekStatus.SUBMITTED
    assert week.submitted_at is not None
    email = OutboundEmail.objects.get(template="logbook_week_submitted")
    assert email.recipient == world.mentor.email
    assert email.context["hours"] == "15"
    with pytest.raises(ValidationError, match="Add an entry|cannot be handed in again"):
        week_submit(actor=world.learner.user, week=week)


def test_the_mentor_returns_with_a_comment_then_the_learner_corrects_and_the_mentor_confirms(world):
    week = handed_in(world)
    with pytest.raises(ValidationError) as refused:
        week_return(actor=world.mentor, week=week, comment="  ")
    assert "comment" in refused.value.error_dict
    with pytest.raises(ValidationError, match="can no longer change"):
        log(world.learner, LAST_MONDAY + datetime.timedelta(days=4))
    week = week_return(actor=world.mentor, week=week, comment="Tuesday was a half day.")
    assert week.status == LogbookWeekStatus.RETURNED
    returned = OutboundEmail.objects.get(template="logbook_week_returned")
    assert returned.recipient == world.learner.user.email
    assert returned.context["comment"] == "Tuesday was a half day."
    tuesday = week.entries.get(entry_date=LAST_MONDAY + datetime.timedelta(days=1))
    entry_update(
        actor=world.learner.user,
        entry=tuesday,
        entry_date=tuesday.entry_date,
        hours=Decimal("4"),
        tasks="Half day: observed a lesson.",
        outcomes=[],
    )
    week = week_submit(actor=world.learner.user, week=week)
    assert (
        OutboundEmail.objects.get(template="logbook_week_submitted", context__again=True).recipient
        == world.mentor.email
    )
    week = week_confirm(actor=world.mentor, week=week)
    assert week.status == LogbookWeekStatus.CONFIRMED
    assert week.reviewed_by == world.mentor
    assert [review.decision for review in LogbookReview.objects.filter(week=week)] == [
        "confirmed",
        "returned",
    ]
    assert OutboundEmail.objects.filter(template="logbook_week_confirmed").count() == 1
    event = AuditEvent.objects.get(action="logbook.week_return")
    assert "half day" not in str(event.new_values)


def test_a_confirmed_week_is_frozen(world, media):
    week = handed_in(world)
    week_confirm(actor=world.mentor, week=week)
    entry = week.entries.first()
    with pytest.raises(ValidationError, match="can no longer change"):
        log(world.learner, LAST_MONDAY + datetime.timedelta(days=4))
    with pytest.raises(ValidationError, match="can no longer change"):
        entry_update(
            actor=world.learner.user,
            entry=entry,
            entry_date=entry.entry_date,
            hours=Decimal("1"),
            tasks="Changed",
            outcomes=[],
        )
    with pytest.raises(ValidationError, match="can no longer change"):
        entry_delete(actor=world.learner.user, entry=entry)
    with pytest.raises(ValidationError, match="can no longer change"):
        entry_evidence_add(
            actor=world.learner.user, entry=entry, checked=checked_png(), scan_status="not_scanned"
        )
    with pytest.raises(ValidationError, match="only a week handed in"):
        week_return(actor=world.mentor, week=week, comment="Again")


def test_the_learner_cannot_confirm_their_own_week(world):
    week = handed_in(world)
    with pytest.raises(PermissionDenied):
        week_confirm(actor=world.learner.user, week=week)
    # Even were they a member of the host organisation and named as mentor.
    learner = world.learner.user
    learner.roles.add(Role.objects.get(key=SystemRole.ORGANISATION_MEMBER))
    OrganisationMembership.objects.create(user=learner, organisation=world.organisation)
    Mentorship.objects.filter(placement=world.learner.placement).update(mentor=learner)
    learner = User.objects.get(pk=learner.pk)
    assert is_mentor(learner, world.learner.placement)
    with pytest.raises(PermissionDenied):
        week_confirm(actor=learner, week=week)
    week.refresh_from_db()
    assert week.status == LogbookWeekStatus.SUBMITTED


def test_a_mentor_reviews_only_the_placements_they_mentor_now(world):
    week = handed_in(world)
    colleague = member_of(world.organisation, full_name="Colleague Member")
    with pytest.raises(PermissionDenied):
        week_confirm(actor=colleague, week=week)
    outsider = member_of(OrganisationFactory(name="Elsewhere School"))
    with pytest.raises(PermissionDenied):
        week_return(actor=outsider, week=week, comment="No")
    Mentorship.objects.filter(placement=world.learner.placement).update(ended_at=timezone.now())
    with pytest.raises(PermissionDenied):
        week_confirm(actor=world.mentor, week=week)
    staff = world.admin
    with pytest.raises(PermissionDenied):
        week_confirm(actor=staff, week=week)


def test_hours_per_outcome_count_confirmed_weeks_and_show_waiting_ones(world):
    first, second, third = world.outcomes
    week = handed_in(world, days=2, outcomes=[first, second])
    week_confirm(actor=world.mentor, week=week)
    log(world.learner, THIS_MONDAY, hours="3", outcomes=[first, third])
    summary = hours_summary(world.learner.placement, world.learner.learner)
    rows = {row.outcome.code: (row.confirmed, row.pending) for row in summary.outcomes}
    assert rows == {
        first.code: (Decimal("15"), Decimal("3")),
        second.code: (Decimal("15"), Decimal("0")),
        third.code: (Decimal("0"), Decimal("3")),
    }
    assert (summary.confirmed, summary.pending) == (Decimal("15"), Decimal("3"))


# --- Evidence ---------------------------------------------------------------------------------


def checked_png():
    return document_upload_check(
        upload=SimpleUploadedFile("lesson.png", png_bytes()),
        document_type=evidence_document_type("Logbook evidence"),
    )


def test_evidence_is_stored_and_removed_with_its_entry(
    world, media, django_capture_on_commit_callbacks
):
    entry = log(world.learner, LAST_MONDAY)
    evidence = entry_evidence_add(
        actor=world.learner.user, entry=entry, checked=checked_png(), scan_status="not_scanned"
    )
    assert evidence.content_type == "image/png"
    stored = [path for path in media.rglob("*") if path.is_file()]
    assert len(stored) == 1
    with django_capture_on_commit_callbacks(execute=True):
        entry_delete(actor=world.learner.user, entry=entry)
    assert not LogbookEvidence.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


# --- Pages ------------------------------------------------------------------------------------


def week_url(placed: Placed, monday: datetime.date) -> str:
    return reverse("workplace:logbook_week", args=[placed.placement.pk, monday.isoformat()])


def text(response) -> str:
    return " ".join(response.content.decode().split())


def test_who_reaches_a_logbook(world, client_of):
    [other] = world.learners_add(1, mentor=member_of(world.organisation))
    handed_in(world)
    urls = [
        reverse("workplace:logbook", args=[world.learner.placement.pk]),
        week_url(world.learner, LAST_MONDAY),
    ]
    outsider = member_of(OrganisationFactory(name="Elsewhere School"))
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    for user, status in [
        (world.learner.user, 200),
        (world.mentor, 200),
        (world.admin, 200),
        (other.user, 404),
        (outsider, 404),
        (trainer, 404),
    ]:
        client = client_of(user)
        for url in urls:
            assert client.get(url).status_code == status, (user, url)
    # The other learner's mentor does not reach this learner's logbook.
    other_mentor = Mentorship.objects.get(placement=other.placement).mentor
    assert client_of(other_mentor).get(urls[0]).status_code == 404
    # Nor does the mentor once the mentorship has ended.
    Mentorship.objects.filter(placement=world.learner.placement).update(ended_at=timezone.now())
    assert client_of(world.mentor).get(urls[0]).status_code == 404
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="view:workplace.logbook"
    ).exists()


@pytest.mark.parametrize("week", ["2027-13-01", "nonsense", "MONDAY_PLUS_ONE", "2001-01-01"])
def test_a_week_address_is_a_monday_of_the_placement(world, client_of, week):
    if week == "MONDAY_PLUS_ONE":
        week = (LAST_MONDAY + datetime.timedelta(days=1)).isoformat()
    url = reverse("workplace:logbook_week", args=[world.learner.placement.pk, week])
    assert client_of(world.learner.user).get(url).status_code == 404


def test_the_learner_logs_a_day_from_the_week_page(world, client_of):
    client = client_of(world.learner.user)
    page = client.get(week_url(world.learner, THIS_MONDAY))
    assert page.status_code == 200
    assert f'value="{TODAY.isoformat()}"' in page.content.decode()
    response = client.post(
        reverse("workplace:entry_add", args=[world.learner.placement.pk]),
        {
            "week": THIS_MONDAY.isoformat(),
            "entry_date": TODAY.isoformat(),
            "hours": "7.5",
            "tasks": "Helped with Grade 8 reading.",
            "outcomes": [world.outcomes[0].pk],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == week_url(world.learner, THIS_MONDAY)
    page = client.get(response["Location"])
    assert "Helped with Grade 8 reading." in text(page)
    assert "Hand in the week to your mentor" in text(page)
    refused = client.post(
        reverse("workplace:entry_add", args=[world.learner.placement.pk]),
        {
            "week": THIS_MONDAY.isoformat(),
            "entry_date": TODAY.isoformat(),
            "hours": "20",
            "tasks": "x",
        },
    )
    assert refused.status_code == 400
    assert "already has 7.5 hours" in text(refused)


def test_the_mentor_reviews_on_the_week_page(world, client_of):
    handed_in(world)
    client = client_of(world.mentor)
    page = client.get(week_url(world.learner, LAST_MONDAY))
    assert "Return to the learner" in text(page)
    review = reverse(
        "workplace:week_review", args=[world.learner.placement.pk, LAST_MONDAY.isoformat()]
    )
    response = client.post(review, {"decision": "return", "comment": ""})
    assert response.status_code == 400
    assert "Say what the learner should correct" in text(response)
    response = client.post(review, {"decision": "confirm", "comment": ""})
    assert response.status_code == 302
    assert LogbookWeek.objects.get().status == LogbookWeekStatus.CONFIRMED
    # The learner may not review.
    assert client_of(world.learner.user).post(review, {"decision": "confirm"}).status_code == 404


def test_the_learner_hands_in_edits_and_removes_from_pages(world, client_of):
    entry = log(world.learner, LAST_MONDAY)
    client = client_of(world.learner.user)
    edit = reverse("workplace:entry_edit", args=[entry.pk])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit, {"entry_date": LAST_MONDAY.isoformat(), "hours": "5", "tasks": "Shorter day"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.hours == Decimal("5")
    delete = reverse("workplace:entry_delete", args=[entry.pk])
    assert "cannot be undone" in text(client.get(delete))
    log(world.learner, LAST_MONDAY + datetime.timedelta(days=1))
    submit = reverse(
        "workplace:week_submit", args=[world.learner.placement.pk, LAST_MONDAY.isoformat()]
    )
    assert client.post(submit).status_code == 302
    assert LogbookWeek.objects.get().status == LogbookWeekStatus.SUBMITTED
    assert client.post(delete).status_code == 400
    # Another learner reaches none of it.
    [other] = world.learners_add(1)
    assert client_of(other.user).get(edit).status_code == 404
    assert client_of(world.mentor).get(edit).status_code == 404


def test_evidence_is_uploaded_and_read_by_who_reaches_the_logbook(world, client_of, media):
    entry = log(world.learner, LAST_MONDAY)
    client = client_of(world.learner.user)
    upload = reverse("workplace:entry_evidence_add", args=[entry.pk])
    response = client.post(upload, {"file": SimpleUploadedFile("lesson.png", png_bytes())})
    assert response.status_code == 302
    refused = client.post(upload, {"file": SimpleUploadedFile("notes.png", b"<html>hi</html>")})
    assert refused.status_code == 400
    assert LogbookEvidence.objects.count() == 1
    evidence = LogbookEvidence.objects.get()
    url = reverse("workplace:logbook_evidence_file", args=[evidence.pk])
    assert client.get(url).status_code == 200
    assert client_of(world.mentor).get(url).status_code == 200
    [other] = world.learners_add(1)
    assert client_of(other.user).get(url).status_code == 404


def test_my_logbooks_and_the_logbook_page(world, client_of):
    client = client_of(world.learner.user)
    page = client.get(reverse("workplace:my_logbooks"))
    assert world.organisation.name in text(page)
    page = client.get(reverse("workplace:logbook", args=[world.learner.placement.pk]))
    assert "Nothing logged yet" in text(page)
    assert "Log today" in text(page)
    week_logged(
        world.learner, LAST_MONDAY, status=LogbookWeekStatus.CONFIRMED, outcomes=[world.outcomes[0]]
    )
    page = client.get(reverse("workplace:logbook", args=[world.learner.placement.pk]))
    assert "37.5" in text(page)
    nobody = UserFactory(roles=[SystemRole.STUDENT])
    assert "No logbook yet" in text(client_of(nobody).get(reverse("workplace:my_logbooks")))
