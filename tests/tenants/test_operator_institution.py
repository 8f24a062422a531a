"""The operator's page of one institution: what it holds, who runs it, when it was last used,
and suspending (after a confirmation page that asks why) and reactivating it, audited."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import SystemRole, User
from audit.models import AuditEvent
from enrolments.services import enrollment_invite
from tenants.models import Domain, Institution
from tenants.overview import institution_facts
from tests.factories import CohortFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    connection.set_schema_to_public()
    return UserFactory(email="ops@cohortly.example", roles=[], is_staff=True)


@pytest.fixture
def operator_client(client_for, operator):
    client = client_for(None)
    client.force_login(operator)
    return client


@pytest.fixture
def filled(institution, admin):
    """Alpha with two cohorts, three students (one of them in both) and a dormant admin."""
    first, second = CohortFactory(active=True), CohortFactory(active=True)
    for email in ("s1@example.org", "s2@example.org", "s3@example.org"):
        enrollment_invite(cohort=first, actor=admin, email=email, full_name="Student")
    enrollment_invite(cohort=second, actor=admin, email="s1@example.org", full_name="Student")
    UserFactory(email="gone@alpha.example", roles=[SystemRole.ADMIN], is_active=False)
    admin.last_login = timezone.now() - datetime.timedelta(days=400)
    admin.save(update_fields=["last_login"])
    connection.set_schema_to_public()
    return Institution.objects.get(code="alpha")


def test_the_facts_count_people_cohorts_and_students_once_each(filled, admin):
    with schema_context(filled.schema_name):
        people = User.objects.filter(is_active=True).count()
    facts = institution_facts(filled)

    assert list(facts.counts) == ["People", "Cohorts", "Students"]
    assert facts.counts == {"People": people, "Cohorts": 2, "Students": 3}
    emails = [admin.email for admin in facts.admins]
    assert "gone@alpha.example" not in emails  # deactivated: not an admin any more
    assert "founder@alpha.example" in emails
    assert admin.email in emails
    # The founder was invited and has not set a password yet.
    founder = next(admin for admin in facts.admins if admin.email == "founder@alpha.example")
    assert founder.roles == ("Super admin",)
    assert founder.has_password is False
    # The admin just invited three students: that is the latest thing a person did there.
    assert facts.last_activity is not None
    assert timezone.now() - facts.last_activity < datetime.timedelta(minutes=5)


def test_the_detail_page_shows_addresses_status_counts_admins_and_activity(
    filled, operator_client, admin
):
    Domain.objects.create(domain="learn.alpha.example", tenant=filled, is_primary=False)

    page = operator_client.get(f"/operator/institutions/{filled.pk}/").content.decode()

    assert "<title>Alpha College · Cohortly</title>" in page  # the platform's own branding
    assert 'href="http://alpha.localhost:8000/"' in page
    assert 'href="http://learn.alpha.example:8000/"' in page
    assert "learn.alpha.example</a></li>" in page
    assert 'alpha.localhost</a> <span class="badge text-bg-secondary">primary</span>' in page
    assert "Active" in page
    for label, count in (("Cohorts", 2), ("Students", 3)):
        assert (
            f'<div class="display-6">{count}</div><div class="text-body-secondary">{label}</div>'
            in page
        )
    assert admin.email in page
    assert "Ada Admin" in page
    assert "Invitation not accepted" in page  # the founder
    assert "gone@alpha.example" not in page
    assert "just now" in page  # last activity
    assert filled.created_at.astimezone().strftime("%Y") in page
    assert "SAST" in page  # times say their zone
    assert "Suspend…" in page


def test_operator_pages_are_for_operators_only(filled, client_for, admin):
    anonymous = client_for(None).get(f"/operator/institutions/{filled.pk}/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    # An institution's admin does not reach the operator's pages on their own site either.
    assert client_for(filled).get(f"/operator/institutions/{filled.pk}/").status_code == 404


def test_an_unknown_institution_or_the_platform_row_is_not_found(operator_client):
    public = Institution.objects.get(schema_name="public")

    assert operator_client.get("/operator/institutions/999999/").status_code == 404
    assert operator_client.get(f"/operator/institutions/{public.pk}/").status_code == 404


def test_suspending_asks_first_and_records_who_and_why(filled, operator_client, operator):
    confirmation = operator_client.get(f"/operator/institutions/{filled.pk}/suspend/")
    page = confirmation.content.decode()
    assert "Suspend Alpha College?" in page
    assert "nobody can sign in" in page
    filled.refresh_from_db()
    assert not filled.is_suspended  # asking changes nothing

    refused = operator_client.post(f"/operator/institutions/{filled.pk}/suspend/", {"reason": " "})
    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()
    filled.refresh_from_db()
    assert not filled.is_suspended

    done = operator_client.post(
        f"/operator/institutions/{filled.pk}/suspend/",
        {"reason": "Unpaid since March."},
        follow=True,
    )

    filled.refresh_from_db()
    assert filled.is_suspended
    assert done.redirect_chain == [(f"/operator/institutions/{filled.pk}/", 302)]
    page = done.content.decode()
    assert "Alpha College is suspended: nobody can sign in there." in page
    assert "by ops@cohortly.example: “Unpaid since March.”" in page
    assert "Reactivate Alpha College" in page
    event = AuditEvent.objects.get(action="institution.suspended", entity_id=str(filled.pk))
    assert event.actor == operator
    assert event.old_values == {"status": "active"}
    assert event.new_values == {"status": "suspended", "reason": "Unpaid since March."}


def test_suspending_twice_records_it_once(filled, operator_client):
    url = f"/operator/institutions/{filled.pk}/suspend/"
    operator_client.post(url, {"reason": "Unpaid."})

    again = operator_client.post(url, {"reason": "Unpaid, again."}, follow=True)
    shown = operator_client.get(url, follow=True)

    assert "Alpha College is already suspended." in again.content.decode()
    assert "Alpha College is already suspended." in shown.content.decode()
    assert AuditEvent.objects.filter(action="institution.suspended").count() == 1


def test_reactivating_is_audited_and_shown_in_the_history(filled, operator_client, operator):
    operator_client.post(f"/operator/institutions/{filled.pk}/suspend/", {"reason": "Unpaid."})
    assert operator_client.get(f"/operator/institutions/{filled.pk}/reactivate/").status_code == 405

    done = operator_client.post(f"/operator/institutions/{filled.pk}/reactivate/", follow=True)

    filled.refresh_from_db()
    assert not filled.is_suspended
    page = done.content.decode()
    assert "Alpha College is active again: people can sign in." in page
    history = page[page.index("Status history") :]
    assert history.index("Reactivated") < history.index("Suspended") < history.index("Created")
    assert "Unpaid." in history
    event = AuditEvent.objects.get(action="institution.reactivated", entity_id=str(filled.pk))
    assert event.actor == operator
    again = operator_client.post(f"/operator/institutions/{filled.pk}/reactivate/", follow=True)
    assert "Alpha College was already active." in again.content.decode()
    assert AuditEvent.objects.filter(action="institution.reactivated").count() == 1


def test_the_dashboard_links_each_institution_to_its_page(filled, operator_client):
    page = operator_client.get("/operator/", {"q": "alpha"}).content.decode()

    assert f'href="/operator/institutions/{filled.pk}/">Alpha College</a>' in page
    assert f'href="/operator/institutions/{filled.pk}/suspend/"' in page


def test_the_commands_say_when_nothing_changed_and_record_it_once(filled):
    outputs = []
    for command in ("suspend_institution", "suspend_institution", "reactivate_institution",
                    "reactivate_institution"):  # fmt: skip
        out = StringIO()
        call_command(command, "alpha", stdout=out)
        outputs.append(out.getvalue().strip())

    assert outputs == [
        "Alpha College is suspended.",
        "Alpha College is already suspended.",
        "Alpha College is active again.",
        "Alpha College is already active.",
    ]
    actions = AuditEvent.objects.filter(
        entity_id=str(filled.pk), action__in=["institution.suspended", "institution.reactivated"]
    )
    assert sorted(actions.values_list("action", flat=True)) == [
        "institution.reactivated",
        "institution.suspended",
    ]
