import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.urls import reverse
from django.utils import timezone

import accounts.lists
from accounts.models import Invitation, Role, SystemRole, User
from accounts.services import user_deactivate, user_invite
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from notifications.services import email_deliver
from tests.factories import PASSWORD, UserFactory, role_keys

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _sign_in(client, email: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_sign_in_with_email_in_any_case_lands_on_the_dashboard(institution, client_for):
    user = UserFactory(email="sign.in@example.org", full_name="Sam Signin")
    client = client_for(institution)

    response = _sign_in(client, "Sign.In@Example.org")

    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/")
    assert "Welcome, Sam Signin" in page.content.decode()
    assert AuditEvent.objects.filter(action="auth.login", actor=user).exists()


def test_wrong_password_shows_an_error_and_is_audited(institution, client_for):
    user = UserFactory(email="wrong@example.org")
    client = client_for(institution)

    response = _sign_in(client, "wrong@example.org", "not-the-password")

    assert response.status_code == 200
    assert "do not match an account here" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.login_failed")
    # The event names the account, not the address typed (a personal value).
    assert (event.entity_type, event.entity_id) == ("accounts.user", str(user.pk))
    assert event.new_values == {}
    assert event.ip_address == "10.0.0.1"


def test_a_failed_sign_in_with_an_unknown_address_keeps_no_address(institution, client_for):
    _sign_in(client_for(institution), "nobody@example.org", "whatever")

    event = AuditEvent.objects.get(action="auth.login_failed")
    assert (event.entity_type, event.entity_id, event.new_values) == ("accounts.user", "", {})


def test_repeated_failures_lock_that_address_from_that_ip_only(institution, client_for, settings):
    UserFactory(email="victim@example.org")
    attacker = client_for(institution)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(attacker, "victim@example.org", "guess", ip="203.0.113.9")

    locked = _sign_in(attacker, "VICTIM@example.org", PASSWORD, ip="203.0.113.9")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()

    # The real owner, from their own network, still gets in.
    owner = client_for(institution)
    assert _sign_in(owner, "victim@example.org", ip="198.51.100.7").status_code == 302


def test_password_reset_by_emailed_link(institution, client_for):
    user = UserFactory(email="forgetful@example.org")
    client = client_for(institution)

    response = client.post("/accounts/reset/", {"email": "forgetful@example.org"})
    assert response.status_code == 302
    email = OutboundEmail.objects.get(template="password_reset")
    email_deliver(email_id=email.pk)
    link = re.search(r"http://alpha\.localhost(:\d+)?(/accounts/reset/\S+/)", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body

    form_page = client.get(link.group(2), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-phrase", "new_password2": "brand-new-pass-phrase"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-phrase")
    assert AuditEvent.objects.filter(action="user.password_reset", actor=user).exists()
    # The link is single-use.
    assert "no longer works" in client.get(link.group(2), follow=True).content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    institution, client_for
):
    response = client_for(institution).post("/accounts/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert not OutboundEmail.objects.filter(recipient="nobody@example.org").exists()


def _invite(admin, email="invitee@example.org") -> str:
    """Invite someone and return the path of the link in their e-mail."""
    user_invite(email=email, full_name="", roles=[SystemRole.VERIFIER], actor=admin)
    url = OutboundEmail.objects.get(recipient=email).context["accept_url"]
    return url.split("alpha.localhost:8000", 1)[1]


def test_invitation_link_sets_password_and_signs_in_once(institution, client_for):
    admin = UserFactory(roles=[SystemRole.SUPER_ADMIN])
    path = _invite(admin)
    client = client_for(institution)

    assert "Set up your account" in client.get(path).content.decode()
    mismatch = client.post(
        path, {"full_name": "Ivy", "password1": "first-pass-phrase", "password2": "other-phrase"}
    )
    assert "The two passwords differ" in mismatch.content.decode()

    response = client.post(
        path,
        {"full_name": "Ivy", "password1": "first-pass-phrase", "password2": "first-pass-phrase"},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email="invitee@example.org").pk)

    again = client_for(institution).get(path)
    assert again.status_code == 410
    assert "has been used" in again.content.decode()


def test_unknown_and_expired_invitation_links(institution, client_for):
    admin = UserFactory(roles=[SystemRole.SUPER_ADMIN])
    path = _invite(admin, "late@example.org")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(hours=1))
    client = client_for(institution)

    assert client.get("/accounts/invitation/not-a-real-token/").status_code == 404
    expired = client.get(path)
    assert expired.status_code == 410
    assert "has expired" in expired.content.decode()

    resent = client.post(path + "resend/")
    assert "A new invitation is on its way" in resent.content.decode()
    assert OutboundEmail.objects.filter(recipient="late@example.org").count() == 2


def test_deactivated_person_is_signed_out_at_once(institution, client_for):
    admin = UserFactory(roles=[SystemRole.SUPER_ADMIN])
    person = UserFactory(roles=[SystemRole.AUDITOR])
    client = client_for(institution)
    client.force_login(person)
    assert client.get("/").status_code == 200

    user_deactivate(user=person, actor=admin)

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert _sign_in(client_for(institution), person.email).status_code == 200


def test_idle_session_expires(institution, client_for, settings):
    person = UserFactory(roles=[SystemRole.AUDITOR])
    client = client_for(institution)
    client.force_login(person)
    client.get("/")
    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date > timezone.now() + timedelta(
        seconds=settings.SESSION_COOKIE_AGE - 60
    )

    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/").status_code == 302


PAGES = [
    ("home", None),
    ("accounts:people_list", None),
    ("accounts:people_invite", None),
    ("accounts:people_detail", "person"),
    ("accounts:people_deactivate", "person"),
    ("audit:audit_list", None),
    ("audit:audit_export_csv", None),
]
ALLOWED = {
    "home": set(SystemRole.values),
    "accounts:people_list": {SystemRole.SUPER_ADMIN, SystemRole.ADMIN},
    "accounts:people_invite": {SystemRole.SUPER_ADMIN, SystemRole.ADMIN},
    "accounts:people_detail": {SystemRole.SUPER_ADMIN, SystemRole.ADMIN},
    "accounts:people_deactivate": {SystemRole.SUPER_ADMIN, SystemRole.ADMIN},
    "audit:audit_list": {SystemRole.SUPER_ADMIN, SystemRole.ADMIN, SystemRole.AUDITOR},
    "audit:audit_export_csv": {SystemRole.SUPER_ADMIN, SystemRole.ADMIN, SystemRole.AUDITOR},
}


@pytest.mark.parametrize("role", SystemRole.values)
def test_every_role_sees_exactly_its_pages(institution, client_for, role):
    person = UserFactory(roles=[SystemRole.STUDENT])
    viewer = UserFactory(roles=[role])
    client = client_for(institution)
    client.force_login(viewer)
    for name, argument in PAGES:
        url = reverse(name, args=[person.pk] if argument else [])
        status = client.get(url, follow=True).status_code
        expected = 200 if role in ALLOWED[name] else 404
        assert status == expected, f"{role} on {name}: {status}"


def test_a_student_lands_on_their_enrolments(institution, client_for):
    client = client_for(institution)
    client.force_login(UserFactory(roles=[SystemRole.STUDENT]))
    assert client.get("/")["Location"] == reverse("enrolments:my_enrolments")


def test_anonymous_visitors_are_sent_to_sign_in(institution, client_for):
    client = client_for(institution)
    for name, argument in PAGES:
        url = reverse(name, args=[1] if argument else [])
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(LOGIN)


def test_people_list_searches_filters_and_pages(institution, client_for):
    admin = UserFactory(roles=[SystemRole.ADMIN], full_name="Ada Admin")
    UserFactory.create_batch(30, roles=[SystemRole.STUDENT])
    UserFactory(roles=[SystemRole.TRAINER], full_name="Tom Trainer")
    UserFactory(roles=[SystemRole.AUDITOR], full_name="Zed Auditor", email="zed@example.org")
    client = client_for(institution)
    client.force_login(admin)

    first = client.get("/accounts/people/")
    assert first.context["page"].paginator.num_pages >= 2
    assert len(first.context["page"].object_list) == 25
    found = client.get("/accounts/people/", {"q": "zed@"}).content.decode()
    assert "Zed Auditor" in found
    assert "Tom Trainer" not in found
    by_role = client.get("/accounts/people/", {"role": SystemRole.AUDITOR}).content.decode()
    assert "Zed Auditor" in by_role
    assert "Tom Trainer" not in by_role
    nobody = client.get("/accounts/people/", {"q": "no-such-person"}).content.decode()
    assert "Nobody matches these filters" in nobody


def test_people_list_query_count_does_not_grow_with_rows(
    institution, client_for, django_assert_max_num_queries
):
    admin = UserFactory(roles=[SystemRole.ADMIN])
    client = client_for(institution)
    client.force_login(admin)
    client.get("/accounts/people/")
    UserFactory.create_batch(3, roles=[SystemRole.STUDENT])
    with django_assert_max_num_queries(30) as few:
        client.get("/accounts/people/")
    UserFactory.create_batch(20, roles=[SystemRole.STUDENT])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/accounts/people/")


def test_invite_page_shows_errors_beside_fields_and_sends_invitation(institution, client_for):
    admin = UserFactory(roles=[SystemRole.SUPER_ADMIN])
    client = client_for(institution)
    client.force_login(admin)

    bad = client.post("/accounts/people/invite/", {"full_name": "", "email": "nope", "roles": []})
    body = bad.content.decode()
    assert bad.status_code == 200
    assert "Enter a valid email address." in body
    assert "This field is required." in body

    ok = client.post(
        "/accounts/people/invite/",
        {
            "full_name": "Vera Verifier",
            "email": "vera@example.org",
            "roles": [Role.objects.get(key=SystemRole.VERIFIER).pk],
        },
        follow=True,
    )
    assert "Invitation sent to vera@example.org" in ok.content.decode()
    assert role_keys(User.objects.get(email="vera@example.org")) == {SystemRole.VERIFIER}


def test_deactivation_asks_for_confirmation_first(institution, client_for):
    admin = UserFactory(roles=[SystemRole.SUPER_ADMIN])
    person = UserFactory(roles=[SystemRole.TRAINER])
    client = client_for(institution)
    client.force_login(admin)
    url = reverse("accounts:people_deactivate", args=[person.pk])

    confirm = client.get(url)
    assert "Deactivate" in confirm.content.decode()
    person.refresh_from_db()
    assert person.is_active

    client.post(url)
    person.refresh_from_db()
    assert not person.is_active


def test_password_change_sets_it_audits_it_and_keeps_this_session_only(institution, client_for):
    user = UserFactory(email="changer@example.org")
    other_device = client_for(institution)
    _sign_in(other_device, "changer@example.org", ip="10.0.0.2")
    client = client_for(institution)
    _sign_in(client, "changer@example.org")
    new = "a-Different-passphrase-42"

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    event = AuditEvent.objects.get(action="user.password_changed")
    assert (event.actor, event.entity_id) == (user, str(user.pk))
    assert event.old_values == event.new_values == {}
    assert client.get("/").status_code == 200  # still signed in here
    assert other_device.get("/").status_code == 302  # signed out on the other device


def test_a_refused_password_change_changes_nothing_and_audits_nothing(institution, client_for):
    user = UserFactory(email="changer@example.org")
    client = client_for(institution)
    _sign_in(client, "changer@example.org")

    wrong_old = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "not-it",
            "new_password1": "a-Good-pass-77",
            "new_password2": "a-Good-pass-77",
        },
    )
    weak = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )

    assert "Your old password was entered incorrectly" in wrong_old.content.decode()
    assert weak.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()


def test_page_two_of_the_people_list_keeps_its_filters(institution, client_for, monkeypatch):
    monkeypatch.setattr(accounts.lists, "PAGE_SIZE", 2)
    admin = UserFactory(roles=[SystemRole.ADMIN], full_name="Ada Admin")
    auditors = [UserFactory(roles=[SystemRole.AUDITOR], full_name=f"Auditor {n}") for n in range(3)]
    UserFactory.create_batch(3, roles=[SystemRole.TRAINER])
    client = client_for(institution)
    client.force_login(admin)

    first = client.get("/accounts/people/", {"role": "auditor", "status": ""})
    assert 'href="?role=auditor&amp;page=2"' in first.content.decode()
    second = client.get("/accounts/people/?role=auditor&page=2")
    assert list(second.context["page"]) == auditors[2:]
