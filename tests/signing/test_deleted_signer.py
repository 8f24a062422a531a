"""A signer with an account here: deleting the account stops their links (signing, declining,
a new link, a reminder), and forgetting them leaves nothing of the visitor who used their link
in the audit trail, which still verifies."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import SystemRole
from accounts.services import accounts_purge_due, user_delete
from audit.context import RequestContext, activate, deactivate
from audit.models import AuditEvent
from audit.selectors import audit_chain_first_break
from audit.services import audit_actor_forget
from signing.selectors import link_for_token
from signing.services.completion import submitter_decline, submitter_open, submitter_sign
from signing.services.links import link_resend, links_remind_expiring
from tests.factories import UserFactory
from tests.signing.conftest import SIGNERS, last_link_to

pytestmark = pytest.mark.django_db

VISITOR_IP, VISITOR_AGENT = "203.0.113.77", "LearnerPhone/9.1"


@pytest.fixture
def learner(institution):
    return UserFactory(email="thandi@example.org", roles=[SystemRole.STUDENT])


@pytest.fixture
def learners_submission(make_submission, learner):
    return make_submission(signers=[{**SIGNERS[0], "user": learner}, *SIGNERS[1:]])


def test_deleting_the_account_stops_its_signing_links(learners_submission, learner, admin):
    link = link_for_token(last_link_to(learner.email))

    user_delete(user=learner, actor=admin)

    link.refresh_from_db()
    assert link.revoked_at is not None
    with pytest.raises(PermissionDenied):
        submitter_sign(link=link, signed_name="T", consent=True, signature_text="T")
    with pytest.raises(PermissionDenied):
        submitter_decline(link=link, reason="Not me")
    with pytest.raises(ValidationError, match="account it was for is deleted"):
        link_resend(link=link)


def test_a_link_of_a_deleted_signer_is_refused_even_if_left_open(
    learners_submission, learner, admin
):
    link = link_for_token(last_link_to(learner.email))
    user_delete(user=learner, actor=admin)
    type(link).objects.filter(pk=link.pk).update(revoked_at=None)  # as if missed
    link.refresh_from_db()

    with pytest.raises(PermissionDenied, match="deleted"):
        submitter_sign(link=link, signed_name="T", consent=True, signature_text="T")


def test_no_reminder_for_a_deleted_signer(learners_submission, learner, admin):
    link = link_for_token(last_link_to(learner.email))
    user_delete(user=learner, actor=admin)
    type(link).objects.filter(pk=link.pk).update(revoked_at=None)

    # A minute before it expires: in the reminder window, past half its life.
    assert links_remind_expiring(now=link.expires_at - timedelta(minutes=1)) == 0


def test_a_learner_who_signed_by_link_is_forgotten_from_the_trail(
    learners_submission, learner, admin
):
    link = link_for_token(last_link_to(learner.email))
    token = activate(
        RequestContext(correlation_id="link", ip_address=VISITOR_IP, user_agent=VISITOR_AGENT)
    )
    try:
        submitter_open(link=link)
        submitter_sign(link=link, signed_name="Thandi", consent=True, signature_text="Thandi")
    finally:
        deactivate(token)
    about = AuditEvent.objects.filter(subject=learner)
    assert set(about.values_list("action", flat=True)) >= {
        "signing.submission_opened",
        "signing.submission_signed",
    }
    assert about.filter(ip_address=VISITOR_IP).exists()

    audit_actor_forget(user=learner)

    assert not AuditEvent.objects.filter(ip_address=VISITOR_IP).exists()
    assert not AuditEvent.objects.filter(user_agent=VISITOR_AGENT).exists()
    assert not AuditEvent.objects.filter(actor_email=learner.email).exists()
    assert audit_chain_first_break() is None


def test_the_purge_forgets_a_signer_too(learners_submission, learner, admin):
    token = activate(
        RequestContext(correlation_id="link", ip_address=VISITOR_IP, user_agent=VISITOR_AGENT)
    )
    try:
        submitter_open(link=link_for_token(last_link_to(learner.email)))
    finally:
        deactivate(token)
    user_delete(user=learner, actor=admin)
    type(learner).objects.filter(pk=learner.pk).update(
        deleted_at=timezone.now() - timedelta(days=400)
    )

    accounts_purge_due(dry_run=False)

    assert not AuditEvent.objects.filter(ip_address=VISITOR_IP).exists()
    assert audit_chain_first_break() is None
