"""Reminders before a signing link expires: once per link, with a fresh link that keeps the
deadline, only to the signer whose turn it is."""

import importlib
import secrets
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from notifications.services import email_render
from signing.models import SigningLink, SubmissionEvent, Submitter
from signing.selectors import link_for_token
from signing.services.completion import submitter_decline, submitter_sign
from signing.services.submissions import submission_create, submission_revoke, submission_send
from signing.services.templates import template_create
from signing.tasks import send_link_reminders, send_link_reminders_all_institutions
from tests.factories import UserFactory
from tests.signing.conftest import BODY, CONTEXT, SIGNERS, last_link_to, token_from

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(admin):
    """A title with an ampersand and an apostrophe, which plain-text e-mails must keep as is."""
    return template_create(
        title="Skills & Learners' agreement",
        body=BODY,
        signer_roles=["student", "sponsor", "institution_admin"],
        actor=admin,
    )


@pytest.fixture
def signers() -> list[dict]:
    """SIGNERS with addresses of this test's own: other tests may have committed submissions
    to the same institution, and the sweep reminds theirs too."""
    tag = secrets.token_hex(4)
    return [signer | {"email": f"{signer['role']}-{tag}@example.org"} for signer in SIGNERS]


@pytest.fixture
def signer_client(institution, client_for, unique_ip):
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    return client


def _expire_in(submitter: Submitter, delta: timedelta, lifetime=timedelta(days=14)) -> SigningLink:
    """Move the signer's link in time: it expires in `delta` and was sent `lifetime` before."""
    expires_at = timezone.now() + delta
    SigningLink.objects.filter(submitter=submitter, revoked_at__isnull=True).update(
        expires_at=expires_at, created_at=expires_at - lifetime
    )
    return SigningLink.objects.get(submitter=submitter, revoked_at__isnull=True)


def _reminders_to(email: str) -> int:
    return OutboundEmail.objects.filter(template="signing_reminder", recipient=email).count()


def _run() -> None:
    """The task as beat would queue it, run here inside the institution and this test's
    transaction."""
    send_link_reminders.apply().get()


def test_a_link_expiring_soon_is_replaced_by_one_reminder(make_submission, signers, signer_client):
    submission = make_submission(signers=signers)
    student = submission.submitters.get(order=1)
    old_token = last_link_to(student.email)
    old_link = _expire_in(student, timedelta(days=1))

    _run()

    email = OutboundEmail.objects.get(template="signing_reminder", recipient=student.email)
    new_token = token_from(email.context["sign_url"])
    assert new_token != old_token
    new_link = link_for_token(new_token)
    assert new_link.expires_at == old_link.expires_at  # the deadline does not move
    assert new_link.reminded_at is not None
    old_link.refresh_from_db()
    assert old_link.revoked_at is not None
    assert signer_client.get(f"/sign/{new_token}/").status_code == 200
    replaced = signer_client.get(f"/sign/{old_token}/")
    assert replaced.status_code == 410
    assert "A newer link was sent" in replaced.content.decode()

    message = email_render(email)
    assert message.subject == (
        f"Reminder: please sign Skills & Learners' agreement before {email.context['expires_at']}"
    )
    assert "Skills & Learners' agreement" in message.body
    assert email.context["sign_url"] in message.body
    assert SubmissionEvent.objects.filter(
        submission=submission, submitter=student, kind="reminded"
    ).exists()
    event = AuditEvent.objects.get(action="signing.link_reminded", entity_id=str(submission.pk))
    assert event.new_values["submitter"] == student.pk


def test_a_link_made_for_a_signer_on_the_page_is_never_reminded(template, signers, admin):
    """The portal and the cohort page issue a link to the signer who is already signed in and
    about to sign; it was never e-mailed, so an e-mail about it would come out of nowhere."""
    submission = submission_create(
        template=template, context=CONTEXT, signers=signers[:1], subject=admin, actor=admin
    )
    submission_send(submission=submission, notify=False, actor=admin)
    student = submission.submitters.get()
    assert not _expire_in(student, timedelta(days=1)).emailed
    _run()
    assert _reminders_to(student.email) == 0


def test_links_sent_before_the_emailed_mark_are_marked_from_their_events(
    template, signers, admin, make_submission
):
    from django.apps import apps

    migration = importlib.import_module("signing.migrations.0007_signinglink_emailed")
    emailed = make_submission(signers=signers[:1]).submitters.get()
    portal = submission_create(
        template=template, context=CONTEXT, signers=signers[1:2], subject=admin, actor=admin
    )
    submission_send(submission=portal, notify=False, actor=admin)
    SigningLink.objects.update(emailed=False)

    migration.mark_emailed_links(apps, connection.schema_editor())

    assert SigningLink.objects.get(submitter=emailed).emailed
    assert not SigningLink.objects.get(submitter__submission=portal).emailed


def test_a_second_sweep_sends_nothing(make_submission, signers):
    submission = make_submission(signers=signers)
    student = submission.submitters.get(order=1)
    _expire_in(student, timedelta(days=1))
    _run()
    _run()
    assert _reminders_to(student.email) == 1
    assert SigningLink.objects.filter(submitter=student).count() == 2


def test_a_link_expiring_later_is_not_reminded(make_submission, signers):
    submission = make_submission(signers=signers)
    student = submission.submitters.get(order=1)
    _expire_in(student, timedelta(days=10))
    _run()
    assert _reminders_to(student.email) == 0


def test_a_short_lived_link_is_reminded_only_past_half_its_life(make_submission, signers):
    submission = make_submission(signers=signers)
    student = submission.submitters.get(order=1)
    _expire_in(student, timedelta(hours=23), lifetime=timedelta(days=1))
    _run()
    assert _reminders_to(student.email) == 0
    _expire_in(student, timedelta(hours=11), lifetime=timedelta(days=1))
    _run()
    assert _reminders_to(student.email) == 1


def test_an_expired_link_is_not_reminded(make_submission, signers):
    submission = make_submission(signers=signers)
    student = submission.submitters.get(order=1)
    _expire_in(student, -timedelta(minutes=1))
    _run()
    assert _reminders_to(student.email) == 0


def _sign_first(submission) -> None:
    link = link_for_token(last_link_to(submission.submitters.get(order=1).email))
    submitter_sign(link=link, signed_name="Signer", consent=True, signature_text="Signer")


def _decline_first(submission) -> None:
    link = link_for_token(last_link_to(submission.submitters.get(order=1).email))
    submitter_decline(link=link, reason="The dates do not suit me.")


@pytest.mark.parametrize("finish", ["signed", "declined", "revoked"])
def test_a_finished_submission_is_not_reminded(make_submission, signers, admin, finish):
    one_signer = signers[:1]
    submission = make_submission(signers=one_signer)
    if finish == "signed":
        _sign_first(submission)
    elif finish == "declined":
        _decline_first(submission)
    else:
        submission_revoke(submission=submission, actor=admin)
    SigningLink.objects.filter(submitter__submission=submission).update(
        expires_at=timezone.now() + timedelta(days=1),
        created_at=timezone.now() - timedelta(days=13),
    )
    _run()
    assert _reminders_to(one_signer[0]["email"]) == 0


def test_a_signer_whose_turn_has_not_come_is_not_reminded(make_submission, signers):
    submission = make_submission(signers=signers)
    student, sponsor = submission.submitters.order_by("order")[:2]
    _expire_in(student, timedelta(days=10))
    SigningLink.objects.create(
        submitter=sponsor,
        token_hash=secrets.token_hex(32),
        created_at=timezone.now() - timedelta(days=13),
        expires_at=timezone.now() + timedelta(days=1),
        emailed=True,
    )
    _run()
    assert _reminders_to(sponsor.email) == 0
    assert _reminders_to(student.email) == 0


def test_the_next_signer_is_reminded_once_it_is_their_turn(make_submission, signers):
    submission = make_submission(signers=signers)
    _sign_first(submission)
    sponsor = submission.submitters.get(order=2)
    _expire_in(sponsor, timedelta(hours=3))
    _run()
    assert _reminders_to(sponsor.email) == 1


def test_the_sweep_runs_in_every_active_institution(
    make_submission, signers, institution, other_institution, monkeypatch
):
    from config.celery import app

    connection.set_tenant(institution)
    here = make_submission(signers=signers).submitters.get(order=1)
    _expire_in(here, timedelta(days=1))
    with tenant_context(other_institution):
        admin = UserFactory(roles=[SystemRole.ADMIN])
        template = template_create(
            title="Beta agreement", body=BODY, signer_roles=["student"], actor=admin
        )
        there_submission = submission_create(
            template=template, context=CONTEXT, signers=signers[:1], actor=admin
        )
        submission_send(submission=there_submission, actor=admin)
        there = there_submission.submitters.get()
        _expire_in(there, timedelta(days=1))
    # Run the fanned-out tasks in this process, inside this test's transaction.
    monkeypatch.setitem(app.conf, "task_always_eager", True)

    send_link_reminders_all_institutions.apply()

    assert _reminders_to(here.email) == 1
    with tenant_context(other_institution):
        email = OutboundEmail.objects.get(template="signing_reminder", recipient=there.email)
        assert f"//{other_institution.code}." in email.context["sign_url"]
        assert link_for_token(token_from(email.context["sign_url"])).submitter == there


def test_the_sweep_is_on_the_beat_schedule():
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["signing-send-link-reminders"]
    assert entry["task"] == send_link_reminders_all_institutions.name
    assert entry["task"] in app.tasks
