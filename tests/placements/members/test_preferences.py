"""Setting a year's preference (stored only through the schema, each complaint placed where it
belongs) and reminding organisations that have not answered."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from learners.models import Learner
from notifications.models import OutboundEmail
from placements.models import (
    Appetite,
    Placement,
    PlacementPreference,
    PlacementStatus,
    PreferenceReminder,
)
from placements.services.preferences import preference_reminders_send, preference_set
from placements.services.subjects import subject_deactivate
from tests.factories import UserFactory
from tests.placements.factories import (
    ContactFactory,
    OrganisationFactory,
    academic_year,
    preference,
    subject,
)
from tests.placements.members.calendar_years import NEXT, THIS

pytestmark = pytest.mark.django_db


def _details(places=(), windows=(), notes=""):
    return {
        "places": [{"subject": code, "phase": phase, "places": n} for code, phase, n in places],
        "windows": [{"starts_on": start, "ends_on": end} for start, end in windows],
        "notes": notes,
    }


def _refusal(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        preference_set(**kwargs)
    return refused.value.message_dict


def test_a_member_sets_their_organisations_preference(member, two_schools, next_year):
    acacia, _ = two_schools

    stored = preference_set(
        actor=member,
        organisation=acacia,
        academic_year=next_year,
        appetite=Appetite.INTERESTED,
        details=_details(
            places=[("math", "secondary", 3)],
            windows=[(f"{NEXT}-02-01", f"{NEXT}-03-26")],
            notes=" Parking at the back ",
        ),
    )

    assert stored.placement_details == {
        "places": [{"subject": "MATH", "phase": "secondary", "places": 3}],
        "windows": [{"starts_on": f"{NEXT}-02-01", "ends_on": f"{NEXT}-03-26"}],
        "notes": "Parking at the back",
    }
    assert stored.created_by == member
    assert stored.updated_by == member
    event = AuditEvent.objects.get(action="placement_preference.set")
    assert event.old_values == {}
    assert event.new_values["appetite"] == "interested"


def test_changing_a_preference_keeps_who_created_it(admin, member, two_schools, next_year):
    acacia, _ = two_schools
    preference_set(
        actor=member,
        organisation=acacia,
        academic_year=next_year,
        appetite=Appetite.UNSURE,
        details=_details(),
    )

    changed = preference_set(
        actor=admin,
        organisation=acacia,
        academic_year=next_year,
        appetite=Appetite.NOT_INTERESTED,
        details=_details(notes="Building works all year"),
    )

    assert PlacementPreference.objects.filter(organisation=acacia).count() == 1
    assert changed.created_by == member
    assert changed.updated_by == admin
    last = AuditEvent.objects.filter(action="placement_preference.set").order_by("-pk").first()
    assert last.old_values["appetite"] == "unsure"


def test_each_complaint_is_placed_on_its_row(member, two_schools, next_year):
    acacia, _ = two_schools
    errors = _refusal(
        actor=member,
        organisation=acacia,
        academic_year=next_year,
        appetite=Appetite.INTERESTED,
        details=_details(
            places=[("MATH", "secondary", 3), ("ENG", "secondary", 900), ("MATH", "secondary", 1)],
            windows=[(f"{NEXT}-02-01", f"{NEXT}-03-01"), (f"{THIS}-12-01", f"{NEXT}-01-10")],
        ),
    )

    assert set(errors) == {"places-1", "places-2", "windows-1"}
    assert errors["places-1"] == ["Input should be less than or equal to 500"]
    assert errors["places-2"] == ["MATH (secondary) is listed twice: give its places once"]
    assert errors["windows-1"] == [
        f"The window 1 Dec {THIS} to 10 Jan {NEXT} is not within the academic year "
        f"(1 Jan {NEXT} to 31 Dec {NEXT})."
    ]
    assert not PlacementPreference.objects.exists()


def test_a_window_that_ends_before_it_starts_is_placed_on_its_row(member, two_schools, next_year):
    errors = _refusal(
        actor=member,
        organisation=two_schools[0],
        academic_year=next_year,
        appetite=Appetite.INTERESTED,
        details=_details(windows=[(f"{NEXT}-03-01", f"{NEXT}-02-01")]),
    )
    assert errors == {"windows-0": ["a window cannot end before it starts"]}


def test_a_subject_no_longer_in_use_is_placed_on_its_row(admin, member, two_schools, next_year):
    subject_deactivate(actor=admin, subject=subject("FRE"))

    errors = _refusal(
        actor=member,
        organisation=two_schools[0],
        academic_year=next_year,
        appetite=Appetite.INTERESTED,
        details=_details(places=[("MATH", "secondary", 1), ("FRE", "secondary", 2)]),
    )
    assert errors == {"places-1": ["Not a subject in the subject list: FRE."]}


def test_not_interested_with_places_is_the_appetites_complaint(member, two_schools, next_year):
    errors = _refusal(
        actor=member,
        organisation=two_schools[0],
        academic_year=next_year,
        appetite=Appetite.NOT_INTERESTED,
        details=_details(places=[("MATH", "secondary", 1)]),
    )
    assert errors == {
        "appetite": ["An organisation that is not interested offers no places or dates."]
    }


def test_notes_too_long_are_the_notes_complaint(member, two_schools, next_year):
    errors = _refusal(
        actor=member,
        organisation=two_schools[0],
        academic_year=next_year,
        appetite=Appetite.UNSURE,
        details=_details(notes="x" * 2001),
    )
    assert list(errors) == ["notes"]


def test_a_year_that_has_ended_is_refused(member, two_schools):
    past = academic_year(str(THIS - 2))
    with pytest.raises(ValidationError, match="has ended"):
        preference_set(
            actor=member,
            organisation=two_schools[0],
            academic_year=past,
            appetite=Appetite.UNSURE,
            details=_details(),
        )


def test_someone_else_may_not_set_an_organisations_preference(institution, next_year):
    outsider = UserFactory(roles=[SystemRole.ORGANISATION_MEMBER])

    with pytest.raises(PermissionDenied):
        preference_set(
            actor=outsider,
            organisation=OrganisationFactory(),
            academic_year=next_year,
            appetite=Appetite.UNSURE,
            details=_details(),
        )
    assert not PlacementPreference.objects.exists()


def test_reminders_go_to_members_else_to_the_organisation_and_its_leads(
    admin, member, two_schools, next_year
):
    acacia, _ = two_schools
    unstaffed = OrganisationFactory(name="Cedar College", email_address="info@cedar.example")
    ContactFactory(organisation=unstaffed, email_address="lead@cedar.example")
    ContactFactory(organisation=unstaffed, email_address="mentor@cedar.example", role="Mentor")

    outcome = preference_reminders_send(
        actor=admin, academic_year=next_year, organisations=[acacia, unstaffed]
    )

    assert outcome.sent == [acacia, unstaffed]
    reminders = OutboundEmail.objects.filter(template="preference_reminder")
    assert sorted(reminders.values_list("recipient", flat=True)) == [
        "info@cedar.example",
        "lead@cedar.example",
        member.email,
    ]
    to_member = reminders.get(recipient=member.email)
    assert to_member.context["url"].endswith(
        f"/placements/my-organisation/preferences/{next_year.pk}/"
    )
    assert reminders.get(recipient="info@cedar.example").context["url"] == ""
    assert PreferenceReminder.objects.filter(academic_year=next_year).count() == 2
    assert AuditEvent.objects.filter(action="placement_preference.reminded").count() == 2


def test_a_second_reminder_within_a_day_is_refused(admin, two_schools, next_year):
    acacia, baobab = two_schools
    preference_reminders_send(actor=admin, academic_year=next_year, organisations=[acacia])

    outcome = preference_reminders_send(
        actor=admin, academic_year=next_year, organisations=[acacia, baobab]
    )

    assert outcome.too_soon == [acacia]
    assert outcome.sent == [baobab]
    assert PreferenceReminder.objects.filter(organisation=acacia).count() == 1


def test_a_reminder_a_day_later_is_sent(admin, two_schools, next_year):
    acacia, _ = two_schools
    preference_reminders_send(actor=admin, academic_year=next_year, organisations=[acacia])
    PreferenceReminder.objects.update(sent_at=timezone.now() - datetime.timedelta(hours=25))

    outcome = preference_reminders_send(
        actor=admin, academic_year=next_year, organisations=[acacia]
    )

    assert outcome.sent == [acacia]


def test_answered_or_unreachable_organisations_are_not_reminded(admin, next_year):
    answered = OrganisationFactory(name="Answered", email_address="a@example.org")
    preference(answered, next_year, appetite=Appetite.UNSURE)
    silent = OrganisationFactory(name="Silent")

    outcome = preference_reminders_send(
        actor=admin, academic_year=next_year, organisations=[answered, silent]
    )

    assert outcome.answered == [answered]
    assert outcome.no_address == [silent]
    assert not outcome.sent
    assert not PreferenceReminder.objects.exists()


def test_only_those_who_manage_organisations_send_reminders(member, two_schools, next_year):
    with pytest.raises(PermissionDenied):
        preference_reminders_send(
            actor=member, academic_year=next_year, organisations=list(two_schools)
        )


def test_a_phase_not_the_subjects_own_is_placed_on_its_row(member, two_schools, next_year):
    errors = _refusal(
        actor=member,
        organisation=two_schools[0],
        academic_year=next_year,
        appetite=Appetite.INTERESTED,
        details=_details(places=[("ENG", "secondary", 1), ("MATH", "primary", 2)]),
    )
    assert errors == {
        "places-1": [
            "MATH is a secondary subject, not primary: give its places under its own phase."
        ]
    }


def test_a_member_sets_only_their_current_organisations_preference(member, two_schools, next_year):
    acacia, baobab = two_schools

    with pytest.raises(PermissionDenied):
        preference_set(
            actor=member,
            organisation=baobab,
            academic_year=next_year,
            appetite=Appetite.UNSURE,
            details=_details(),
        )
    assert not PlacementPreference.objects.exists()


def _placements_taken(organisation, year, code: str, statuses) -> None:
    for number, status in enumerate(statuses):
        Placement.objects.create(
            learner=Learner.objects.create(first_name=f"Learner {number}"),
            organisation=organisation,
            academic_year=year,
            subject=subject(code),
            starts_on=datetime.date(NEXT, 2, 1),
            ends_on=datetime.date(NEXT, 3, 1),
            status=status,
        )


def test_fewer_places_than_placements_take_are_refused(member, two_schools, next_year):
    acacia, _ = two_schools
    kept = preference(acacia, next_year, places={("MATH", "secondary"): 3})
    _placements_taken(
        acacia,
        next_year,
        "MATH",
        [PlacementStatus.CONFIRMED, PlacementStatus.ACTIVE, PlacementStatus.PROPOSED],
    )
    _placements_taken(acacia, academic_year(str(THIS)), "MATH", [PlacementStatus.COMPLETED] * 3)
    arguments = {"actor": member, "organisation": acacia, "academic_year": next_year}

    errors = _refusal(
        **arguments,
        appetite=Appetite.INTERESTED,
        details=_details(places=[("ENG", "secondary", 2)]),
    )
    assert errors == {
        "__all__": [
            "Mathematics has 2 placements taken this year (confirmed, active or completed): "
            "offer at least 2 places in it."
        ]
    }
    errors = _refusal(**arguments, appetite=Appetite.NOT_INTERESTED, details=_details())
    assert errors == {
        "appetite": [
            "Mathematics has 2 placements taken this year (confirmed, active or completed): "
            "answer interested or unsure while they stand."
        ]
    }
    kept.refresh_from_db()
    assert kept.placement_details["places"][0]["places"] == 3

    lowered = preference_set(
        **arguments, appetite=Appetite.UNSURE, details=_details(places=[("math", "secondary", 2)])
    )
    assert lowered.placement_details["places"][0]["places"] == 2


def test_the_audit_event_keeps_out_the_notes(member, two_schools, next_year):
    acacia, _ = two_schools
    for notes in ("Our mentor is on sick leave until March", "Parking at the back"):
        preference_set(
            actor=member,
            organisation=acacia,
            academic_year=next_year,
            appetite=Appetite.UNSURE,
            details=_details(notes=notes),
        )

    events = AuditEvent.objects.filter(action="placement_preference.set").order_by("pk")
    assert [event.new_values["placement_details"]["notes"] for event in events] == [
        "(changed)",
        "(changed)",
    ]
    assert events[1].old_values["placement_details"]["notes"] == "(changed)"
    assert "sick leave" not in str([(event.old_values, event.new_values) for event in events])
    assert PlacementPreference.objects.get().placement_details["notes"] == "Parking at the back"
