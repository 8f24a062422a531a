"""Assessors' and moderators' registrations: who may be registered (the role's permission, one
active registration per role, a number unique per role, a future expiry date, a scope), each
change audited without the number's value, the list's filters, the audited 404 for anyone who
does not manage practitioners, and the expiry warning, once per expiry date, from the daily task
run in the tenant."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SystemRole
from accounts.selectors import users_with_permission
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from tests.factories import ProgrammeFactory, UserFactory
from tests.workplace.support import registered
from workplace.access import MANAGE_PRACTITIONERS, registration_valid
from workplace.models import PractitionerRegistration, PractitionerRole
from workplace.selectors.practitioners import practitioner_candidates, registration_list
from workplace.services.practitioners import (
    registration_create,
    registration_expiry_warn,
    registration_update,
)
from workplace.tasks.practitioners import (
    registration_expiry_warn_all_institutions,
    registration_expiry_warn_due,
)

pytestmark = pytest.mark.django_db

NUMBER = "ETDP-A-004512"


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def programme(institution):
    return ProgrammeFactory(code="TI01", name="Teaching Internship")


@pytest.fixture
def assessor(institution):
    return UserFactory(roles=[SystemRole.ASSESSOR], full_name="Andile Assessor")


@pytest.fixture
def moderator(institution):
    return UserFactory(roles=[SystemRole.MODERATOR], full_name="Mpho Moderator")


def create(admin, user, programme, **overrides):
    arguments = {
        "actor": admin,
        "user": user,
        "role": PractitionerRole.ASSESSOR,
        "registration_number": NUMBER,
        "registered_with": "ETDP SETA",
        "registered_on": days(-100),
        "expires_on": days(365),
        "scope": [programme],
        **overrides,
    }
    return registration_create(**arguments)


def update(admin, registration, **overrides):
    arguments = {
        "actor": admin,
        "registration": registration,
        "registration_number": registration.registration_number,
        "registered_with": registration.registered_with,
        "registered_on": registration.registered_on,
        "expires_on": registration.expires_on,
        "scope": list(registration.scope.all()),
        "is_active": registration.is_active,
        **overrides,
    }
    return registration_update(**arguments)


def errors(refused: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return refused.value.message_dict


# Services


def test_a_registration_lets_its_person_assess_in_its_scope_and_is_audited_without_its_number(
    admin, assessor, programme
):
    registration = create(admin, assessor, programme)

    assert registration_valid(assessor, PractitionerRole.ASSESSOR, programme) == registration
    event = AuditEvent.objects.get(action="practitioner_registration.created")
    assert event.actor == admin
    assert event.new_values["registration_number"] == "(changed)"
    assert event.new_values["scope"] == [programme.pk]
    assert event.new_values["user"] == assessor.pk
    assert NUMBER not in str(event.new_values) + str(event.old_values)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"expires_on": None}, "expires_on", "Give the date"),
        ({"expires_on": "today"}, "expires_on", "must be in the future"),
        ({"expires_on": "yesterday"}, "expires_on", "must be in the future"),
        ({"scope": []}, "scope", "at least one programme"),
        ({"registration_number": "  "}, "registration_number", "Give the registration number"),
        ({"registered_on": "tomorrow"}, "registered_on", "cannot be in the future"),
        ({"role": PractitionerRole.MODERATOR}, "user", "does not hold the moderator role"),
    ],
)
def test_a_registration_is_refused_with_a_clear_message(
    admin, assessor, programme, overrides, field, message
):
    named_dates = {"today": days(0), "yesterday": days(-1), "tomorrow": days(1)}
    overrides = {
        name: named_dates.get(value, value) if isinstance(value, str) else value
        for name, value in overrides.items()
    }
    with pytest.raises(ValidationError) as refused:
        create(admin, assessor, programme, **overrides)
    assert message in " ".join(errors(refused)[field])
    assert not PractitionerRegistration.objects.exists()


def test_a_number_is_unique_per_role_and_a_person_has_one_active_registration_per_role(
    admin, assessor, moderator, programme
):
    create(admin, assessor, programme)
    other = UserFactory(roles=[SystemRole.ASSESSOR])
    with pytest.raises(ValidationError) as taken:
        create(admin, other, programme, registration_number=NUMBER.lower())
    assert (
        "Another assessor registration has this number" in errors(taken)["registration_number"][0]
    )
    # The same number as a moderator's is another register's.
    create(admin, moderator, programme, role=PractitionerRole.MODERATOR)

    with pytest.raises(ValidationError) as twice:
        create(admin, assessor, programme, registration_number="ETDP-A-999")
    assert "already has an active assessor registration" in errors(twice)["user"][0]


def test_a_withdrawn_registration_makes_room_for_a_new_one(admin, assessor, programme):
    first = create(admin, assessor, programme)
    update(admin, first, is_active=False)
    assert registration_valid(assessor, PractitionerRole.ASSESSOR, programme) is None

    second = create(admin, assessor, programme, registration_number="ETDP-A-777")
    assert registration_valid(assessor, PractitionerRole.ASSESSOR, programme) == second
    with pytest.raises(ValidationError) as refused:
        update(admin, first, is_active=True)
    assert "already has an active" in errors(refused)["user"][0]


def test_a_change_is_audited_with_the_number_recorded_as_changed(admin, assessor, programme):
    registration = create(admin, assessor, programme)
    second = ProgrammeFactory(code="TI02")
    update(
        admin,
        registration,
        registration_number="ETDP-A-000001",
        expires_on=days(400),
        scope=[programme, second],
    )

    event = AuditEvent.objects.get(action="practitioner_registration.changed")
    assert event.new_values == {
        "registration_number": "(changed)",
        "expires_on": days(400).isoformat(),
        "scope": sorted([programme.pk, second.pk]),
    }
    assert event.old_values == {"expires_on": days(365).isoformat(), "scope": [programme.pk]}
    assert "ETDP-A" not in str(event.new_values) + str(event.old_values)
    registration.refresh_from_db()
    assert registration.registration_number == "ETDP-A-000001"
    # Saving it unchanged records nothing.
    update(admin, registration)
    assert AuditEvent.objects.filter(action="practitioner_registration.changed").count() == 1


def test_an_expired_registration_can_still_be_withdrawn_but_not_moved_into_the_past(
    admin, assessor, programme
):
    registration = registered(assessor, PractitionerRole.ASSESSOR, programme, expires_on=days(-5))
    with pytest.raises(ValidationError) as refused:
        update(admin, registration, expires_on=days(-1))
    assert "must be in the future" in errors(refused)["expires_on"][0]
    update(admin, registration, is_active=False)
    registration.refresh_from_db()
    assert registration.is_active is False


def test_only_who_manages_practitioners_registers(admin, assessor, programme):
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    with pytest.raises(PermissionDenied):
        create(trainer, assessor, programme)
    registration = create(admin, assessor, programme)
    with pytest.raises(PermissionDenied):
        update(trainer, registration, is_active=False)
    assert AuditEvent.objects.filter(action="permission.denied").count() == 2


def test_the_candidates_are_the_active_holders_of_the_roles_permission(admin, assessor, moderator):
    gone = UserFactory(roles=[SystemRole.ASSESSOR], is_active=False)
    assessors = set(practitioner_candidates(PractitionerRole.ASSESSOR))
    assert assessor in assessors
    assert admin in assessors  # admins hold the permission, to give the role
    assert moderator not in assessors
    assert gone not in assessors
    assert moderator in set(practitioner_candidates(PractitionerRole.MODERATOR))
    assert {assessor, moderator} <= set(practitioner_candidates())


# The list


def test_the_list_filters_by_role_and_standing(admin, assessor, moderator, programme):
    current = registered(assessor, PractitionerRole.ASSESSOR, programme, expires_on=days(200))
    expiring = registered(moderator, PractitionerRole.MODERATOR, programme, expires_on=days(30))
    expired = registered(
        UserFactory(roles=[SystemRole.ASSESSOR]),
        PractitionerRole.ASSESSOR,
        programme,
        expires_on=days(-1),
    )
    withdrawn = registered(
        UserFactory(roles=[SystemRole.ASSESSOR]), PractitionerRole.ASSESSOR, programme
    )
    PractitionerRegistration.objects.filter(pk=withdrawn.pk).update(is_active=False)

    def listed(**filters):
        return set(registration_list(**filters))

    assert listed() == {current, expiring, expired, withdrawn}
    assert listed(role=PractitionerRole.MODERATOR) == {expiring}
    assert listed(standing="expiring") == {expiring}
    assert listed(standing="expired") == {expired}
    assert listed(standing="withdrawn") == {withdrawn}
    assert listed(standing="current") == {current, expiring}
    assert listed(search="andile") == {current}
    assert {row.pk: row.standing for row in registration_list()} == {
        current.pk: "current",
        expiring.pk: "expiring",
        expired.pk: "expired",
        withdrawn.pk: "withdrawn",
    }


def test_the_list_page_shows_filters_and_its_empty_states(
    admin_client, assessor, moderator, programme
):
    empty = admin_client.get("/workplace/practitioners/")
    assert empty.status_code == 200
    assert "No assessors or moderators registered yet." in empty.content.decode()

    registered(assessor, PractitionerRole.ASSESSOR, programme, expires_on=days(10))
    page = admin_client.get("/workplace/practitioners/").content.decode()
    assert "Andile Assessor" in page
    assert "expires soon" in page

    nothing = admin_client.get("/workplace/practitioners/?standing=expired").content.decode()
    assert "No registration matches these filters." in nothing
    moderators = admin_client.get("/workplace/practitioners/?role=moderator").content.decode()
    assert "Andile Assessor" not in moderators


def test_the_list_reads_in_the_same_number_of_queries_for_more_rows(admin_client, programme):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get("/workplace/practitioners/").status_code == 200
        return len(queries)

    registered(UserFactory(roles=[SystemRole.ASSESSOR]), PractitionerRole.ASSESSOR, programme)
    few = count()
    for _ in range(10):
        registered(UserFactory(roles=[SystemRole.ASSESSOR]), PractitionerRole.ASSESSOR, programme)
    assert count() == few


def test_the_list_pages_after_25_rows(admin_client, programme):
    for _ in range(27):
        registered(UserFactory(roles=[SystemRole.ASSESSOR]), PractitionerRole.ASSESSOR, programme)
    first = admin_client.get("/workplace/practitioners/").content.decode()
    second = admin_client.get("/workplace/practitioners/?page=2").content.decode()
    assert first.count("data-registration=") == 25
    assert second.count("data-registration=") == 2


# The pages


def test_a_person_is_registered_on_the_add_page(admin_client, assessor, programme):
    page = admin_client.get("/workplace/practitioners/new/?role=assessor")
    assert page.status_code == 200
    assert "Andile Assessor" in page.content.decode()

    response = admin_client.post(
        "/workplace/practitioners/new/",
        {
            "user": assessor.pk,
            "role": "assessor",
            "registration_number": NUMBER,
            "registered_with": "ETDP SETA",
            "registered_on": "",
            "expires_on": days(300).isoformat(),
            "scope": [programme.pk],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/workplace/practitioners/"
    registration = PractitionerRegistration.objects.get()
    assert (registration.user, registration.expires_on) == (assessor, days(300))


def test_the_add_page_puts_a_refusal_beside_its_field(admin_client, assessor, programme):
    response = admin_client.post(
        "/workplace/practitioners/new/",
        {
            "user": assessor.pk,
            "role": "assessor",
            "registration_number": NUMBER,
            "expires_on": days(-3).isoformat(),
            "scope": [programme.pk],
        },
    )
    assert response.status_code == 400
    assert "The expiry date must be in the future" in response.content.decode()
    assert not PractitionerRegistration.objects.exists()


def test_a_registration_is_withdrawn_on_its_edit_page(admin_client, assessor, programme):
    registration = registered(assessor, PractitionerRole.ASSESSOR, programme)
    url = f"/workplace/practitioners/{registration.pk}/"
    page = admin_client.get(url).content.decode()
    assert registration.registration_number in page
    response = admin_client.post(
        url,
        {
            "registration_number": registration.registration_number,
            "registered_with": "ETDP SETA",
            "expires_on": registration.expires_on.isoformat(),
            "scope": [programme.pk],
        },
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.is_active is False


@pytest.mark.parametrize("role", [SystemRole.TRAINER, SystemRole.ASSESSOR, SystemRole.MODERATOR])
def test_anyone_else_gets_404(role, client_of, assessor, programme):
    registration = registered(assessor, PractitionerRole.ASSESSOR, programme)
    client = client_of(UserFactory(roles=[role]))
    for url in [
        "/workplace/practitioners/",
        "/workplace/practitioners/new/",
        f"/workplace/practitioners/{registration.pk}/",
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"registration_number": "X"}).status_code == 404, url
    registration.refresh_from_db()
    assert registration.is_active is True


def test_an_unknown_registration_is_404(admin_client):
    assert admin_client.get("/workplace/practitioners/999999/").status_code == 404


# Expiry warnings


def warnings_sent() -> list[tuple[str, str]]:
    return sorted(
        OutboundEmail.objects.filter(template__startswith="registration_expiring").values_list(
            "template", "recipient"
        )
    )


def test_a_month_before_expiry_the_practitioner_and_the_managers_are_warned_once(
    admin, assessor, programme
):
    registration = registered(assessor, PractitionerRole.ASSESSOR, programme, expires_on=days(30))

    assert registration_expiry_warn_due() == {"warned": 1}

    registration.refresh_from_db()
    assert registration.expiry_warned_for == days(30)
    managers = {person.email for person in users_with_permission(MANAGE_PRACTITIONERS)}
    assert admin.email in managers
    assert warnings_sent() == sorted(
        [("registration_expiring", email) for email in managers]
        + [("registration_expiring_practitioner", assessor.email)]
    )
    staff_email = OutboundEmail.objects.filter(template="registration_expiring").first()
    assert staff_email.context["expires_on"] == f"{days(30):%-d %B %Y}"
    assert staff_email.context["url"].endswith(f"/workplace/practitioners/{registration.pk}/")
    assert registration.registration_number not in str(staff_email.context)

    before = warnings_sent()
    assert registration_expiry_warn_due() == {"warned": 0}
    assert registration_expiry_warn(registration_id=registration.pk, today=days(0)) is False
    assert warnings_sent() == before
    [event] = AuditEvent.objects.filter(action="practitioner_registration.expiry_warned")
    assert event.actor is None
    assert event.new_values == {
        "expiry_warned_for": days(30).isoformat(),
        "recipients": len(managers) + 1,
    }


def test_a_new_expiry_date_is_warned_about_again(admin, assessor, programme):
    registration = registered(assessor, PractitionerRole.ASSESSOR, programme, expires_on=days(20))
    assert registration_expiry_warn_due() == {"warned": 1}
    update(admin, registration, expires_on=days(25))
    assert registration_expiry_warn_due() == {"warned": 1}
    registration.refresh_from_db()
    assert registration.expiry_warned_for == days(25)
    assert AuditEvent.objects.filter(action="practitioner_registration.expiry_warned").count() == 2


@pytest.mark.parametrize(("expires_in", "active"), [(31, True), (-1, True), (10, False)], ids=str)
def test_a_registration_not_due_is_not_warned_about(assessor, programme, expires_in, active):
    registration = registered(
        assessor, PractitionerRole.ASSESSOR, programme, expires_on=days(expires_in)
    )
    PractitionerRegistration.objects.filter(pk=registration.pk).update(is_active=active)
    assert registration_expiry_warn_due() == {"warned": 0}
    assert warnings_sent() == []


def test_the_beat_task_warns_in_each_institution(assessor, programme, eager):
    registration = registered(assessor, PractitionerRole.ASSESSOR, programme, expires_on=days(5))
    registration_expiry_warn_all_institutions()
    registration.refresh_from_db()
    assert registration.expiry_warned_for == days(5)
