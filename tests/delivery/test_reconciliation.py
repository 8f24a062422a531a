"""Reconciliation of a cohort's delivery against the fake gateway over HTTP: the four outcomes
(matched, missing at the gateway, different field by field, only at the gateway), records not
sent and why, withdrawals matched by the gateway's status, an unreachable gateway, re-sending
one record or every difference, and the sync_reconcile command's exit codes."""

# ruff: noqa: F811 (the gateway fixtures of tests.integrations.conftest are imported by name)

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from accounts.models import SystemRole
from audit.models import AuditEvent
from delivery import gateway as delivery_gateway
from delivery.models import Assessment, AssessmentResult
from delivery.reconciliation import cohort_reconcile, reconciliation_resend
from integrations.models import SyncJob, SyncJobStatus
from integrations.reconciliation import FieldDifference, Outcome
from integrations.services import connector_load, sync_enqueue_many, sync_jobs_sweep
from learners.models import ConsentKind
from tests.delivery.reconciliation_support import delivery_make, delivery_send
from tests.delivery.results_support import learners_enrol
from tests.factories import UserFactory
from tests.integrations.conftest import connected, gateway  # noqa: F401 (fixtures)
from tests.learners.support import consents_give

pytestmark = pytest.mark.django_db


def reconciled(delivered):
    return cohort_reconcile(delivered.run.cohort, connector=connector_load())


def outcome_of(report, reference: str):
    (item,) = [item for item in report.items if item.reference == reference]
    return item


@pytest.fixture
def sent(connected):
    delivered = delivery_make()
    delivery_send(delivered)
    return delivered


def test_what_the_gateway_accepted_is_matched_for_runs_enrolments_attendance_and_results(sent):
    report = reconciled(sent)

    assert [run.unreadable for run in report.runs] == [""]
    titles = [section.title for section in report.runs[0].sections]
    assert titles[:2] == ["Course run", "Enrolments"]
    assert titles[2].startswith("Attendance, ")
    assert titles[3] == "Results"
    assert len(report.items) == 7  # the run, and two learners' enrolment, attendance and result
    assert {item.outcome for item in report.items} == {Outcome.MATCHED}
    assert report.all_matched


def test_every_record_is_sent_even_when_the_gateway_answers_slowly(connected):
    delivered = delivery_make(learners=3)
    connected.will("slow", seconds=0.45)  # the run's send uses up the batch's time to start

    delivery_send(delivered)

    assert not SyncJob.objects.filter(
        status__in=(SyncJobStatus.QUEUED, SyncJobStatus.RUNNING)
    ).exists()
    assert reconciled(delivered).all_matched


def test_a_record_never_sent_is_missing_at_the_gateway_and_may_be_sent(sent, connected):
    (late,) = learners_enrol(sent.run, 1, start=10)
    consents_give(late.enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)

    report = reconciled(sent)

    item = outcome_of(report, delivery_gateway.enrolment_reference(late.pk))
    assert (item.outcome, item.reason) == (Outcome.MISSING, "")
    assert item.resendable
    assert not report.all_matched


def test_a_record_the_gateway_lost_is_re_sent_as_a_new_registration(sent, connected, admin):
    enrolment = sent.enrolments[0]
    reference = delivery_gateway.enrolment_reference(enrolment.pk)
    connected.forget("enrolment", reference)

    item = outcome_of(reconciled(sent), reference)
    assert (item.outcome, item.reason, item.resendable) == (Outcome.MISSING, "", True)

    reconciliation_resend(
        actor=admin,
        cohort=sent.run.cohort,
        connector=connector_load(),
        entity_type="delivery.courseenrollment",
        entity_id=str(enrolment.pk),
    )
    resent = SyncJob.objects.filter(entity_id=str(enrolment.pk)).latest("pk")
    assert resent.job_type == "enrolment_create"
    sync_jobs_sweep()

    assert connected.record("enrolment", reference) is not None
    assert outcome_of(reconciled(sent), reference).outcome == Outcome.MATCHED
    # Later changes go to the reference the gateway gave the record anew.
    assert SyncJob.objects.get(pk=resent.pk).external_reference == (
        connected.record("enrolment", reference).gateway_reference
    )


def test_a_record_changed_at_the_gateway_is_different_field_by_field(sent, connected):
    run_reference = delivery_gateway.run_reference(sent.run.pk)
    result_reference = delivery_gateway.assessment_reference(sent.results[1].pk)
    connected.alter("run", run_reference, venue="Hall B", intakeSize=25)
    connected.alter("assessment", result_reference, score="40.00")

    report = reconciled(sent)

    run = outcome_of(report, run_reference)
    assert run.outcome == Outcome.DIFFERENT
    assert run.differences == (
        FieldDifference("venue", "Room 1", "Hall B"),
        FieldDifference("intakeSize", 20, 25),
    )
    assert outcome_of(report, result_reference).differences == (
        FieldDifference("score", "75.00", "40.00"),
    )


def test_a_record_only_the_gateway_holds_is_listed_as_only_at_the_gateway(sent, connected):
    run_at_gateway = connected.record("run", delivery_gateway.run_reference(sent.run.pk))
    connected.plant(
        "attendance",
        "attendance-999999",
        run=run_at_gateway.gateway_reference,
        body={"status": "present"},
    )

    item = outcome_of(reconciled(sent), "attendance-999999")

    assert (item.outcome, item.entity_id, item.resendable) == (Outcome.ONLY_AT_GATEWAY, "", False)
    assert item.gateway_reference.startswith("ATT-")


def test_the_id_number_is_never_compared_and_references_are_the_gateways(sent, connected):
    reference = delivery_gateway.enrolment_reference(sent.enrolments[0].pk)
    held = connected.record("enrolment", reference).body["trainee"]
    connected.alter(
        "enrolment", reference, trainee={**held, "idNumber": "9999999999", "fullName": "X"}
    )

    item = outcome_of(reconciled(sent), reference)

    assert [difference.field for difference in item.differences] == ["trainee.fullName"]
    held_run = connected.record("enrolment", reference).body["course"]["run"]["reference"]
    assert held_run.startswith("RUN-")  # filled in on our side too: no difference there


def test_a_learner_without_consent_is_not_sent_and_the_report_says_why(connected):
    delivered = delivery_make(consenting=1)
    delivery_send(delivered)
    report = reconciled(delivered)

    name = delivered.enrolments[1].enrollment.user.full_name
    left_out = [item for item in report.items if item.outcome == Outcome.NOT_SENT]
    assert len(left_out) == 3  # their enrolment, attendance and result
    assert {item.reason for item in left_out} == {
        f"{name} has not consented to sharing with the funding body."
    }
    assert report.all_matched  # nothing is expected at the gateway for them


def test_results_not_moderated_yet_are_not_sent(connected):
    delivered = delivery_make(learners=1)
    type(delivered.run).objects.filter(pk=delivered.run.pk).update(moderated_at=None)
    delivery_send(delivered)

    item = outcome_of(
        reconciled(delivered), delivery_gateway.assessment_reference(delivered.results[0].pk)
    )

    assert (item.outcome, item.reason) == (
        Outcome.NOT_SENT,
        "The run's results are not moderated yet.",
    )


def test_a_void_is_matched_once_the_gateway_says_void_and_different_until_then(sent, connected):
    assessment = sent.results[0]
    Assessment.objects.filter(pk=assessment.pk).update(
        result=AssessmentResult.VOID, void_reason="Marked twice"
    )
    reference = delivery_gateway.assessment_reference(assessment.pk)

    before = outcome_of(reconciled(sent), reference)
    assert before.outcome == Outcome.DIFFERENT
    assert before.differences == (FieldDifference("gatewayStatus", "void", "active"),)

    sync_enqueue_many(Assessment.objects.filter(pk=assessment.pk))
    sync_jobs_sweep()

    assert outcome_of(reconciled(sent), reference).outcome == Outcome.MATCHED


def test_a_void_the_gateway_lost_is_not_sent_and_not_a_difference(sent, connected):
    assessment = sent.results[0]
    Assessment.objects.filter(pk=assessment.pk).update(
        result=AssessmentResult.VOID, void_reason="Marked twice"
    )
    reference = delivery_gateway.assessment_reference(assessment.pk)
    connected.forget("assessment", reference)

    report = reconciled(sent)
    item = outcome_of(report, reference)

    assert (item.outcome, item.resendable) == (Outcome.NOT_SENT, False)
    assert "no longer holds it" in item.reason
    assert report.all_matched
    code, printed = reconcile_command("--institution", "alpha")
    assert code == 0, printed


def test_a_gateway_that_cannot_be_read_is_said_so_per_run(sent, connected):
    connected.will("error_500")

    report = reconciled(sent)

    assert report.runs[0].unreadable.startswith("The gateway could not be read for this run:")
    assert report.items == []
    assert not report.all_matched


# --- Re-sending -----------------------------------------------------------------------------


def test_re_sending_one_record_queues_one_job_once_and_the_record_then_matches(
    sent, connected, admin
):
    run_reference = delivery_gateway.run_reference(sent.run.pk)
    connected.alter("run", run_reference, venue="Hall B")
    cohort = sent.run.cohort

    queued = reconciliation_resend(
        actor=admin,
        cohort=cohort,
        connector=connector_load(),
        entity_type="delivery.courserun",
        entity_id=str(sent.run.pk),
    )
    # A double click: the job is on its way, so nothing more is queued.
    with pytest.raises(ValidationError, match="already on its way"):
        reconciliation_resend(
            actor=admin,
            cohort=cohort,
            connector=connector_load(),
            entity_type="delivery.courserun",
            entity_id=str(sent.run.pk),
        )

    assert [item.reference for item in queued] == [run_reference]
    jobs = SyncJob.objects.filter(entity_type="delivery.courserun", status=SyncJobStatus.QUEUED)
    assert jobs.count() == 1
    event = AuditEvent.objects.filter(action="sync.reconciliation_resent").latest("pk")
    assert event.new_values["records"] == [f"delivery.courserun#{sent.run.pk}"]
    assert (event.entity_type, event.actor_id) == ("cohorts.cohort", admin.pk)

    sync_jobs_sweep()

    assert connected.record("run", run_reference).body["venue"] == "Room 1"
    assert outcome_of(reconciled(sent), run_reference).outcome == Outcome.MATCHED


def test_the_same_gateway_state_names_the_same_job(sent, connected):
    connected.alter("run", delivery_gateway.run_reference(sent.run.pk), venue="Hall B")
    item = outcome_of(reconciled(sent), delivery_gateway.run_reference(sent.run.pk))

    assert item.resend_token == outcome_of(reconciled(sent), item.reference).resend_token
    connected.alter("run", item.reference, venue="Hall C")
    assert item.resend_token != outcome_of(reconciled(sent), item.reference).resend_token


def test_re_sending_all_differences_puts_every_one_right(sent, connected, admin):
    connected.forget("enrolment", delivery_gateway.enrolment_reference(sent.enrolments[1].pk))
    connected.alter(
        "attendance", delivery_gateway.attendance_reference(sent.attendance[1].pk), status="absent"
    )
    connected.alter(
        "assessment", delivery_gateway.assessment_reference(sent.results[0].pk), result="Fail"
    )

    queued = reconciliation_resend(actor=admin, cohort=sent.run.cohort, connector=connector_load())

    assert sorted(item.outcome for item in queued) == ["different", "different", "missing"]
    sync_jobs_sweep()
    # The lost enrolment is registered anew under a new gateway reference: its result still
    # names the old one at the gateway, and differs until it is sent again (its attendance was
    # re-sent with the new reference, being a difference of its own).
    report = reconciled(sent)
    assert {item.reference for item in report.items if item.differs} == {
        delivery_gateway.assessment_reference(sent.results[1].pk)
    }
    reconciliation_resend(actor=admin, cohort=sent.run.cohort, connector=connector_load())
    sync_jobs_sweep()
    assert reconciled(sent).all_matched
    assert (
        reconciliation_resend(actor=admin, cohort=sent.run.cohort, connector=connector_load()) == []
    )


def test_only_who_manages_the_sync_may_re_send(sent, connected):
    trainer = UserFactory(roles=[SystemRole.TRAINER])

    with pytest.raises(PermissionDenied):
        reconciliation_resend(actor=trainer, cohort=sent.run.cohort, connector=connector_load())
    assert not SyncJob.objects.filter(status=SyncJobStatus.QUEUED).exists()


# --- The command ----------------------------------------------------------------------------


def reconcile_command(*arguments: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("sync_reconcile", *arguments, stdout=out)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue()
    except Exception as error:  # CommandError under call_command: its returncode is the exit
        return int(getattr(error, "returncode", 1)), out.getvalue() + str(error)
    return 0, out.getvalue()


def test_the_command_exits_0_when_all_matched_and_1_on_a_difference(sent, connected):
    cohort = sent.run.cohort

    code, printed = reconcile_command("--institution", "alpha", "--cohort", str(cohort.pk))
    assert code == 0, printed
    assert "matched 7" in printed

    connected.alter("run", delivery_gateway.run_reference(sent.run.pk), venue="Hall B")
    code, printed = reconcile_command("--institution", "alpha")
    assert code == 1
    assert "Different: " in printed
    assert "venue: ours 'Room 1', theirs 'Hall B'" in printed


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--institution", "nowhere"), "No institution with the code 'nowhere'"),
        (("--institution", "alpha", "--cohort", "987654"), "alpha has no cohort 987654"),
    ],
)
def test_the_command_exits_2_on_bad_input(connected, arguments, message):
    code, printed = reconcile_command(*arguments)

    assert code == 2
    assert message in printed


def test_the_command_exits_2_without_a_connector(institution):
    code, printed = reconcile_command("--institution", "alpha")

    assert code == 2
    assert "has no active gateway connector" in printed
