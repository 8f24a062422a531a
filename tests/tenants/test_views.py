import pytest
from django.core.management import call_command
from django.db import connection

import accounts.lists
from notifications.models import OutboundEmail
from tenants.models import Institution, ProvisioningRequest, ProvisioningRequestStatus
from tenants.selectors import institution_list_for_operator
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    connection.set_schema_to_public()
    return UserFactory(email="ops@cohortly.example", roles=[], is_staff=True)


def test_hosts_route_to_the_platform_an_institution_or_nowhere(institution, client_for):
    landing = client_for(None).get("/")
    assert "Find my institution" in landing.content.decode()

    alpha = client_for(institution).get("/accounts/login/")
    assert "to Alpha College" in alpha.content.decode()

    unknown = client_for(None).get("/", HTTP_HOST="nowhere.localhost")
    assert unknown.status_code == 404
    assert "couldn" in unknown.content.decode()


def test_a_platform_operator_cannot_sign_in_on_an_institution(institution, client_for, operator):
    response = client_for(institution).post(
        "/accounts/login/", {"username": operator.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "do not match an account here" in response.content.decode()


def test_suspension_shows_a_notice_everywhere_and_stops_sign_in(institution, client_for):
    person = UserFactory(email="member@example.org")
    signed_in = client_for(institution)
    signed_in.force_login(person)

    call_command("suspend_institution", "alpha")

    for path in ("/", "/accounts/login/", "/audit/"):
        response = client_for(institution).get(path)
        assert response.status_code == 503
        assert "Alpha College is suspended" in response.content.decode()
    assert signed_in.get("/").status_code == 503
    attempt = client_for(institution).post(
        "/accounts/login/", {"username": person.email, "password": PASSWORD}
    )
    assert attempt.status_code == 503
    assert "sessionid" not in attempt.cookies

    call_command("reactivate_institution", "alpha")
    assert signed_in.get("/").status_code == 200


def test_suspend_command_refuses_an_unknown_code():
    with pytest.raises(Exception, match="No institution has the code"):
        call_command("suspend_institution", "nope")


def test_operator_pages_need_an_operator(client_for, operator):
    anonymous = client_for(None).get("/operator/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")

    client = client_for(None)
    client.force_login(operator)
    page = client.get("/operator/").content.decode()
    assert "Alpha College" in page
    assert "Beta Academy" in page


def test_operator_form_explains_bad_codes_beside_the_field(client_for, operator):
    client = client_for(None)
    client.force_login(operator)
    response = client.post(
        "/operator/institutions/new/",
        {"name": "X", "code": "www", "admin_email": "x@example.org"},
    )
    assert response.status_code == 200
    assert "is reserved" in response.content.decode()
    taken = client.post(
        "/operator/institutions/new/",
        {"name": "X", "code": "alpha", "admin_email": "x@example.org"},
    )
    assert "already taken" in taken.content.decode()


def test_operator_suspends_and_reactivates_from_the_dashboard(client_for, operator):
    client = client_for(None)
    client.force_login(operator)
    beta = Institution.objects.get(code="beta")

    client.post(f"/operator/institutions/{beta.pk}/suspend/", {"reason": "Unpaid."})
    beta.refresh_from_db()
    assert beta.is_suspended
    client.post(f"/operator/institutions/{beta.pk}/reactivate/")
    beta.refresh_from_db()
    assert not beta.is_suspended
    assert client.post(f"/operator/institutions/{beta.pk}/explode/").status_code == 404


def test_the_form_saves_a_request_and_the_dashboard_shows_it(
    client_for, operator, django_capture_on_commit_callbacks
):
    client = client_for(None)
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            "/operator/institutions/new/",
            {"name": "Zeta School", "code": "zeta", "admin_email": "head@zeta.example"},
        )
    assert response.status_code == 302
    assert response["Location"] == "/operator/"
    assert len(callbacks) == 1
    provisioning_request = ProvisioningRequest.objects.get(code="zeta")
    assert provisioning_request.status == ProvisioningRequestStatus.QUEUED
    assert provisioning_request.dispatched_at is not None

    page = client.get("/operator/").content.decode()
    assert "Zeta School is being created" in page
    assert "Institutions being created" in page
    assert "Waiting to start" in page
    assert 'hx-trigger="every 3s"' in page  # refreshes itself while in progress

    again = client.post(
        "/operator/institutions/new/",
        {"name": "Zeta Again", "code": "zeta", "admin_email": "x@zeta.example"},
    )
    assert again.status_code == 200
    assert "“zeta” is already being created" in again.content.decode()
    assert ProvisioningRequest.objects.filter(code="zeta").count() == 1


def test_a_failed_request_shows_why_and_is_tried_again_or_dismissed(client_for, operator):
    client = client_for(None)
    client.force_login(operator)
    failed = ProvisioningRequest.objects.create(
        name="Zeta School", code="zeta", admin_email="head@zeta.example", requested_by=operator,
        status=ProvisioningRequestStatus.FAILED, error="Creating the institution was interrupted.",
    )  # fmt: skip

    page = client.get("/operator/").content.decode()
    assert "Creating the institution was interrupted." in page
    assert "Try again" in page
    assert "Dismiss" in page
    assert "every 3s" not in page  # nothing in progress: no polling

    assert client.get(f"/operator/requests/{failed.pk}/retry/").status_code == 405
    assert client.post(f"/operator/requests/{failed.pk}/explode/").status_code == 404
    response = client.post(f"/operator/requests/{failed.pk}/retry/", follow=True)
    assert "Zeta School is being created again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == ProvisioningRequestStatus.QUEUED

    refused = client.post(f"/operator/requests/{failed.pk}/dismiss/", follow=True)
    assert "Only a request that failed can be dismissed." in refused.content.decode()

    ProvisioningRequest.objects.filter(pk=failed.pk).update(status=ProvisioningRequestStatus.FAILED)
    client.post(f"/operator/requests/{failed.pk}/dismiss/")
    failed.refresh_from_db()
    assert failed.status == ProvisioningRequestStatus.DISMISSED
    assert "Institutions being created" not in client.get("/operator/").content.decode()


def test_find_my_institution_emails_links_and_shows_none(institution, client_for):
    connection.set_schema_to_public()
    response = client_for(None).post("/find-institution/", {"email": "Founder@Alpha.example"})

    body = response.content.decode()
    assert "Check your e-mail" in body
    assert "Alpha College" not in body
    email = OutboundEmail.objects.get(template="find_institution")
    assert email.recipient == "founder@alpha.example"
    assert email.context["institutions"] == [
        {"name": "Alpha College", "url": "http://alpha.localhost:8000/accounts/login/"}
    ]


def test_find_my_institution_for_an_unknown_address_says_the_same(client_for, db):
    connection.set_schema_to_public()
    response = client_for(None).post("/find-institution/", {"email": "stranger@example.org"})
    assert "Check your e-mail" in response.content.decode()
    assert OutboundEmail.objects.get(recipient="stranger@example.org").context["institutions"] == []


def test_find_my_institution_validates_and_limits(client_for, db):
    client = client_for(None)
    invalid = client.post("/find-institution/", {"email": "not-an-address"})
    assert "Enter a valid email address." in invalid.content.decode()
    for _ in range(10):
        client.post("/find-institution/", {"email": "spam@example.org"}, REMOTE_ADDR="192.0.2.9")
    limited = client.post(
        "/find-institution/", {"email": "spam@example.org"}, REMOTE_ADDR="192.0.2.9"
    )
    assert "Too many requests" in limited.content.decode()


def test_page_two_of_the_institutions_keeps_its_filters(client_for, operator, monkeypatch):
    monkeypatch.setattr(accounts.lists, "PAGE_SIZE", 1)
    client = client_for(None)
    client.force_login(operator)

    matching = list(institution_list_for_operator(search="a", status="active"))
    assert len(matching) >= 2  # Alpha College and Beta Academy, at least

    first = client.get("/operator/", {"q": "a", "status": "active"})
    assert 'href="?q=a&amp;status=active&amp;page=2"' in first.content.decode()
    second = client.get("/operator/?q=a&status=active&page=2")
    assert list(second.context["page"]) == matching[1:2]
