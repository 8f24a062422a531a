"""The daily expiry task, run for real in the test's schema: clearances past their expiry date
expire (as the system, with the date as the reason), and a month before it the people who
manage vetting and the learner are warned, once, however often the task runs."""

import datetime

import pytest
from django.utils import timezone

from accounts.selectors import users_with_permission
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from placements.models import VettingRecord, VettingStatus
from placements.services.vetting import (
    MANAGE_VETTING,
    vetting_expiry_warn,
    vetting_record_clear,
)
from placements.tasks.vetting import vetting_expire, vetting_expire_all_institutions

pytestmark = pytest.mark.django_db


@pytest.fixture
def cleared(admin, opened, evidence_add):
    """A police clearance cleared for the learner, its expiry date then set to `expires_on`
    (as if the days had passed since it was given)."""

    def make(expires_on: datetime.date, who=None) -> VettingRecord:
        record = opened(who=who)
        evidence_add(record)
        vetting_record_clear(
            actor=admin,
            record=record,
            expires_on=timezone.localdate() + datetime.timedelta(days=365),
        )
        VettingRecord.objects.filter(pk=record.pk).update(expires_on=expires_on)
        record.refresh_from_db()
        return record

    return make


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def warnings_sent() -> list[tuple[str, str]]:
    return sorted(
        OutboundEmail.objects.filter(template__startswith="vetting_expiring").values_list(
            "template", "recipient"
        )
    )


def test_a_clearance_past_its_expiry_date_expires_as_the_system(cleared):
    record = cleared(days(-1))

    assert vetting_expire() == {"expired": 1, "warned": 0}

    record.refresh_from_db()
    assert record.status == VettingStatus.EXPIRED
    assert record.reason == f"Expired on {days(-1):%-d %B %Y}"
    assert record.reviewer is None
    [event] = AuditEvent.objects.filter(action="vetting.expire", entity_id=str(record.pk))
    assert event.actor is None
    assert event.new_values == {"status": "expired", "reason": record.reason}
    # A second run finds nothing to do.
    assert vetting_expire() == {"expired": 0, "warned": 0}


def test_a_clearance_is_valid_on_its_expiry_date(cleared):
    record = cleared(days(0))
    vetting_expire()
    record.refresh_from_db()
    assert record.status == VettingStatus.CLEARED


def test_a_month_before_expiry_staff_and_the_learner_are_warned_once(cleared, learner, admin):
    soon = cleared(days(30))

    assert vetting_expire() == {"expired": 0, "warned": 1}

    soon.refresh_from_db()
    assert soon.expiry_warned_at is not None
    staff = {person.email for person in users_with_permission(MANAGE_VETTING)}
    assert admin.email in staff
    assert warnings_sent() == sorted(
        [("vetting_expiring", email) for email in staff]
        + [("vetting_expiring_learner", learner.user.email)]
    )
    learner_email = OutboundEmail.objects.get(template="vetting_expiring_learner")
    assert learner_email.context["expires_on"] == f"{days(30):%-d %B %Y}"
    assert learner_email.context["url"].endswith("/placements/my/vetting/")

    before = warnings_sent()
    assert vetting_expire() == {"expired": 0, "warned": 0}
    assert warnings_sent() == before
    assert vetting_expiry_warn(record_id=soon.pk, today=timezone.localdate()) is False
    assert AuditEvent.objects.filter(action="vetting.expiry_warned").count() == 1


def test_a_clearance_further_away_is_not_warned_about_yet(cleared):
    later = cleared(days(31))
    assert vetting_expire() == {"expired": 0, "warned": 0}
    later.refresh_from_db()
    assert later.expiry_warned_at is None
    assert warnings_sent() == []


def test_a_learner_without_an_account_is_not_e_mailed(cleared):
    from learners.models import Learner

    candidate = Learner.objects.create(first_name="No", last_name="Account")
    cleared(days(10), who=candidate)
    vetting_expire()
    assert {template for template, _ in warnings_sent()} == {"vetting_expiring"}


def test_the_beat_task_runs_the_expiry_in_each_institution(cleared, eager):
    record = cleared(days(-3))
    vetting_expire_all_institutions()
    record.refresh_from_db()
    assert record.status == VettingStatus.EXPIRED


def test_a_renewed_clearance_is_not_warned_about_and_expires_quietly(
    admin, cleared, opened, evidence_add
):
    """The learner brought a new certificate before the old one ran out: nobody needs telling
    that the old one expires, and when it does it expires without an e-mail."""
    old = cleared(days(20))
    renewal = opened()
    evidence_add(renewal)
    vetting_record_clear(actor=admin, record=renewal, expires_on=days(365))

    assert vetting_expire() == {"expired": 0, "warned": 0}
    assert vetting_expiry_warn(record_id=old.pk, today=timezone.localdate()) is False
    old.refresh_from_db()
    assert old.expiry_warned_at is None
    assert warnings_sent() == []

    VettingRecord.objects.filter(pk=old.pk).update(expires_on=days(-1))
    assert vetting_expire() == {"expired": 1, "warned": 0}
    old.refresh_from_db()
    assert old.status == VettingStatus.EXPIRED
    assert not OutboundEmail.objects.filter(template__startswith="vetting").exists()


def test_a_renewal_expiring_sooner_does_not_silence_the_warning(
    admin, cleared, opened, evidence_add
):
    """Only a clearance valid for longer stands in for the one expiring; and each record is
    warned about once, whichever of the two runs out first."""
    later = cleared(days(25))
    sooner = opened()
    evidence_add(sooner)
    vetting_record_clear(actor=admin, record=sooner, expires_on=days(10))

    assert vetting_expire() == {"expired": 0, "warned": 1}
    sooner.refresh_from_db()
    later.refresh_from_db()
    assert (sooner.expiry_warned_at is None, later.expiry_warned_at is None) == (True, False)
    assert vetting_expire() == {"expired": 0, "warned": 0}
