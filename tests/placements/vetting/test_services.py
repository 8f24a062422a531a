"""Vetting's services on the real database: types, programme requirements, every transition of
a record and each refusal, with its audit event; and what "cleared for placement" means."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from placements.models import ProgrammeVettingRequirement, VettingRecord, VettingStatus
from placements.selectors.clearance import vetting_missing
from placements.selectors.vetting import (
    learner_programmes,
    learner_records,
    learner_vetting_standing,
)
from placements.services.vetting import (
    clearance_expiry_default,
    programme_vetting_requirements_set,
    vetting_record_clear,
    vetting_record_expire,
    vetting_record_fail,
    vetting_record_open,
    vetting_record_start,
    vetting_record_withdraw,
    vetting_type_active_set,
    vetting_type_create,
    vetting_type_update,
)

from .conftest import staff_without_vetting, vetting_type

pytestmark = pytest.mark.django_db

IN_A_YEAR = timezone.localdate() + datetime.timedelta(days=365)


def events(record: VettingRecord, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            entity_type="placements.vettingrecord", entity_id=str(record.pk), action=action
        )
    )


# --- Types and requirements -------------------------------------------------------------------


def test_an_institution_adds_edits_and_stops_using_its_own_type(admin):
    first_aid = vetting_type_create(
        actor=admin, name="First aid", code="First_Aid", expires=True, validity_days=730
    )
    assert first_aid.code == "first_aid"
    assert clearance_expiry_default(first_aid, datetime.date(2027, 1, 1)) == datetime.date(
        2028, 12, 31
    )

    vetting_type_update(
        actor=admin,
        vetting_type=first_aid,
        name="First aid level 1",
        description="A certificate",
        expires=False,
        validity_days=None,
    )
    vetting_type_active_set(actor=admin, vetting_type=first_aid, is_active=False)

    first_aid.refresh_from_db()
    assert (first_aid.name, first_aid.expires, first_aid.is_active) == (
        "First aid level 1",
        False,
        False,
    )
    actions = AuditEvent.objects.filter(
        entity_type="placements.vettingtype", entity_id=str(first_aid.pk)
    ).values_list("action", flat=True)
    assert list(actions.order_by("pk")) == [
        "vetting_type.create",
        "vetting_type.update",
        "vetting_type.deactivate",
    ]


def test_a_type_refuses_a_duplicate_name_and_a_validity_without_expiry(admin):
    with pytest.raises(ValidationError) as refused:
        vetting_type_create(actor=admin, name="police clearance", code="police2")
    assert "already a vetting type named" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        vetting_type_create(actor=admin, name="Drug test", code="drug", validity_days=30)
    assert "Only a type whose clearances expire" in str(refused.value)
    with pytest.raises(ValidationError, match="already a vetting type with code"):
        vetting_type_create(actor=admin, name="Identity again", code="identity")


def test_a_type_a_programme_requires_cannot_be_deactivated(admin, programme):
    with pytest.raises(ValidationError, match="required by Teaching Internship"):
        vetting_type_active_set(actor=admin, vetting_type=vetting_type("identity"), is_active=False)
    assert vetting_type("identity").is_active


def test_a_programme_requirements_are_set_as_a_list(admin, programme):
    medical = vetting_type("medical")
    programme_vetting_requirements_set(
        actor=admin, programme=programme, vetting_types=[medical, vetting_type("identity")]
    )

    required = ProgrammeVettingRequirement.objects.filter(programme=programme)
    assert sorted(required.values_list("vetting_type__code", flat=True)) == ["identity", "medical"]
    [event] = AuditEvent.objects.filter(action="programme.vetting_requirements_set")
    assert event.old_values == {"vetting_types": ["identity", "police_clearance"]}
    assert event.new_values == {"vetting_types": ["identity", "medical"]}


def test_a_programme_cannot_newly_require_an_inactive_type(admin, programme):
    reference = vetting_type("reference")
    vetting_type_active_set(actor=admin, vetting_type=reference, is_active=False)
    with pytest.raises(ValidationError, match="Reference is no longer in use"):
        programme_vetting_requirements_set(
            actor=admin, programme=programme, vetting_types=[reference]
        )
    assert ProgrammeVettingRequirement.objects.filter(programme=programme).count() == 2


# --- Records ----------------------------------------------------------------------------------


def test_a_check_goes_from_open_to_in_progress_to_cleared(admin, opened, evidence_add):
    record = opened()
    assert record.status == VettingStatus.PENDING
    vetting_record_start(actor=admin, record=record, reference="APP-1")
    evidence_add(record)

    vetting_record_clear(
        actor=admin, record=record, expires_on=IN_A_YEAR, reason="Certificate seen"
    )

    record.refresh_from_db()
    assert record.status == VettingStatus.CLEARED
    assert (record.reviewer, record.reason, record.expires_on) == (
        admin,
        "Certificate seen",
        IN_A_YEAR,
    )
    assert record.reviewed_at is not None
    assert record.reference == "APP-1"
    [cleared] = events(record, "vetting.clear")
    assert cleared.actor == admin
    assert cleared.new_values["expires_on"] == str(IN_A_YEAR)
    assert len(events(record, "vetting.open")) == len(events(record, "vetting.start")) == 1


def test_a_second_open_check_of_the_same_type_is_refused(admin, opened, learner):
    opened()
    with pytest.raises(ValidationError, match="already has an open police clearance check"):
        opened()
    # Another type is fine.
    opened("identity")
    assert VettingRecord.objects.filter(learner=learner).count() == 2


def test_a_renewal_may_be_opened_once_the_last_check_is_decided(admin, opened, evidence_add):
    record = opened()
    evidence_add(record)
    vetting_record_clear(actor=admin, record=record, expires_on=IN_A_YEAR)
    renewal = opened()
    assert renewal.pk != record.pk


def test_a_check_of_an_inactive_type_cannot_be_opened(admin, learner):
    reference = vetting_type("reference")
    vetting_type_active_set(actor=admin, vetting_type=reference, is_active=False)
    with pytest.raises(ValidationError, match="no longer in use"):
        vetting_record_open(actor=admin, learner=learner, vetting_type=reference)


def test_clearing_needs_reviewable_evidence(admin, opened, evidence_add):
    record = opened()
    with pytest.raises(ValidationError, match="Upload the evidence first"):
        vetting_record_clear(actor=admin, record=record, expires_on=IN_A_YEAR)
    evidence = evidence_add(record)
    evidence.scan_status = "scanning"
    evidence.save(update_fields=["scan_status"])
    with pytest.raises(ValidationError, match="Upload the evidence first"):
        vetting_record_clear(actor=admin, record=record, expires_on=IN_A_YEAR)
    record.refresh_from_db()
    assert record.status == VettingStatus.PENDING
    assert events(record, "vetting.clear") == []


@pytest.mark.parametrize(
    ("code", "expires_on", "message"),
    [
        ("police_clearance", None, "expires: give its date"),
        ("police_clearance", "yesterday", "This date has passed"),
        ("police_clearance", "today", "This date has passed"),
        ("identity", "next year", "do not expire: leave the expiry date empty"),
    ],
)
def test_clearing_checks_the_expiry_date(admin, opened, evidence_add, code, expires_on, message):
    today = timezone.localdate()
    dates = {
        None: None,
        "yesterday": today - datetime.timedelta(days=1),
        "today": today,
        "next year": IN_A_YEAR,
    }
    record = opened(code)
    evidence_add(record)
    with pytest.raises(ValidationError) as refused:
        vetting_record_clear(actor=admin, record=record, expires_on=dates[expires_on])
    assert message in str(refused.value)
    assert "expires_on" in refused.value.error_dict
    record.refresh_from_db()
    assert record.status == VettingStatus.PENDING


def test_a_type_that_does_not_expire_is_cleared_without_a_date(admin, opened, evidence_add):
    record = opened("identity")
    evidence_add(record)
    vetting_record_clear(actor=admin, record=record, expires_on=None)
    record.refresh_from_db()
    assert (record.status, record.expires_on) == (VettingStatus.CLEARED, None)


def test_failing_needs_a_reason_and_records_it(admin, opened):
    record = opened()
    with pytest.raises(ValidationError, match="Give the reason"):
        vetting_record_fail(actor=admin, record=record, reason="   ")
    vetting_record_fail(actor=admin, record=record, reason="A conviction was found")
    record.refresh_from_db()
    assert (record.status, record.reason, record.reviewer) == (
        VettingStatus.FAILED,
        "A conviction was found",
        admin,
    )
    [event] = events(record, "vetting.fail")
    # The reason may be about a conviction: the trail says one was given, not what it says.
    assert event.new_values["reason"] == "(changed)"
    assert "conviction" not in str(event.new_values)


def test_a_decided_check_refuses_other_decisions(admin, opened, evidence_add):
    record = opened()
    vetting_record_fail(actor=admin, record=record, reason="Forged")
    with pytest.raises(ValidationError, match="is failed, so it cannot be cleared"):
        vetting_record_clear(actor=admin, record=record, expires_on=IN_A_YEAR)
    with pytest.raises(ValidationError, match="cannot be started"):
        vetting_record_start(actor=admin, record=record)
    with pytest.raises(ValidationError, match="cannot be withdrawn"):
        vetting_record_withdraw(actor=admin, record=record, reason="x")
    with pytest.raises(ValidationError, match="cannot be given more evidence"):
        evidence_add(record)


def test_withdrawing_a_clearance_expires_it_with_the_reason(admin, opened, evidence_add):
    record = opened()
    evidence_add(record)
    vetting_record_clear(actor=admin, record=record, expires_on=IN_A_YEAR)
    with pytest.raises(ValidationError, match="Give the reason"):
        vetting_record_withdraw(actor=admin, record=record, reason="")
    vetting_record_withdraw(actor=admin, record=record, reason="New information from SAPS")
    record.refresh_from_db()
    assert (record.status, record.reason) == (VettingStatus.EXPIRED, "New information from SAPS")
    [event] = events(record, "vetting.withdraw")
    assert event.new_values["reason"] == "(changed)"
    assert "SAPS" not in str(event.new_values)


def _locked_tables(queries: list[dict[str, str]]) -> list[str]:
    """The tables rows were locked in, in the order the locks were taken."""
    return [
        table
        for query in queries
        if "FOR UPDATE" in query["sql"]
        for table in ("learners_learner", "placements_vettingrecord")
        if f'FROM "{table}"' in query["sql"]
    ]


@pytest.mark.parametrize("change", ["fail", "withdraw", "expire"])
def test_a_clearance_changes_under_the_learner_s_lock_taken_first(
    admin, opened, evidence_add, change
):
    """Placements lock the learner before reading clearance: a clearance failed, withdrawn or
    expiring takes the same lock first, so the two take turns (and in one order: no deadlock)."""
    record = opened()
    if change != "fail":
        evidence_add(record)
        vetting_record_clear(actor=admin, record=record, expires_on=IN_A_YEAR)
    if change == "expire":
        VettingRecord.objects.filter(pk=record.pk).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
    with CaptureQueriesContext(connection) as queries:
        if change == "fail":
            vetting_record_fail(actor=admin, record=record, reason="Unreadable")
        elif change == "withdraw":
            vetting_record_withdraw(actor=admin, record=record, reason="Forged")
        else:
            assert vetting_record_expire(record_id=record.pk, today=timezone.localdate())
    assert _locked_tables(queries.captured_queries) == [
        "learners_learner",
        "placements_vettingrecord",
    ]


def test_someone_without_manage_vetting_is_refused_and_it_is_audited(opened, learner):
    trainer = staff_without_vetting()
    with pytest.raises(PermissionDenied):
        vetting_record_open(actor=trainer, learner=learner, vetting_type=vetting_type("medical"))
    record = opened()
    for refused in (
        lambda: vetting_record_start(actor=trainer, record=record),
        lambda: vetting_record_fail(actor=trainer, record=record, reason="no"),
        lambda: vetting_type_create(actor=trainer, name="X", code="x"),
    ):
        with pytest.raises(PermissionDenied):
            refused()
    assert AuditEvent.objects.filter(actor=trainer, action="permission.denied").count() == 4
    record.refresh_from_db()
    assert record.status == VettingStatus.PENDING


# --- Cleared for placement --------------------------------------------------------------------


def test_cleared_for_placement_needs_every_required_type_cleared_and_unexpired(
    admin, programme, learner, opened, evidence_add
):
    police = opened()
    evidence_add(police)
    vetting_record_clear(actor=admin, record=police, expires_on=IN_A_YEAR)
    assert vetting_missing(learner, programme) == [vetting_type("identity")]
    [standing] = learner_vetting_standing(
        learner, learner_records(learner), learner_programmes(learner)
    )
    assert not standing.cleared
    assert {r.vetting_type.code: r.state for r in standing.requirements} == {
        "identity": "missing",
        "police_clearance": "cleared",
    }

    identity = opened("identity")
    evidence_add(identity)
    vetting_record_clear(actor=admin, record=identity, expires_on=None)
    [standing] = learner_vetting_standing(
        learner, learner_records(learner), learner_programmes(learner)
    )
    assert standing.cleared
    assert vetting_missing(learner, programme) == []
    # After the police clearance's expiry date it no longer counts.
    assert vetting_missing(learner, programme, on=IN_A_YEAR + datetime.timedelta(days=1)) == [
        vetting_type("police_clearance")
    ]


def test_an_expired_or_withdrawn_clearance_does_not_count(
    admin, programme, learner, opened, evidence_add
):
    for code in ("identity", "police_clearance"):
        record = opened(code)
        evidence_add(record)
        vetting_record_clear(
            actor=admin, record=record, expires_on=IN_A_YEAR if code != "identity" else None
        )
    assert vetting_missing(learner, programme) == []
    police = VettingRecord.objects.get(learner=learner, vetting_type__code="police_clearance")
    vetting_record_withdraw(actor=admin, record=police, reason="Withdrawn by SAPS")
    assert vetting_missing(learner, programme) == [vetting_type("police_clearance")]


def test_a_clearance_expiring_within_a_month_shows_as_expiring(
    admin, learner, opened, evidence_add
):
    record = opened()
    evidence_add(record)
    vetting_record_clear(
        actor=admin, record=record, expires_on=timezone.localdate() + datetime.timedelta(days=20)
    )
    [standing] = learner_vetting_standing(
        learner, learner_records(learner), learner_programmes(learner)
    )
    states = {r.vetting_type.code: r.state for r in standing.requirements}
    assert states["police_clearance"] == "expiring"
