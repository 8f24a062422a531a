"""A cohort's delivery as Cohortly holds it against what the training gateway acknowledged:
each course run, its learners' enrolments, attendance per session and results, compared per run
with the connector's `retrieve` (integrations.reconciliation does the comparing). The ops admin's
re-send queues a new, idempotent job for each record that differs, named after the gateway's
state of it, so that a double click queues it once."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.models import Cohort
from delivery import gateway
from delivery.models import (
    Assessment,
    AssessmentResult,
    AttendanceRecord,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
    CourseRunStatus,
)
from integrations.connectors.base import Connector, RetrieveFailed
from integrations.reconciliation import (
    Outcome,
    ReconciledItem,
    Record,
    RecordKind,
    records_reconcile,
)
from integrations.selectors import sync_states_for
from integrations.services import sync_enqueue_many

MANAGE_SYNC = "integrations.manage_sync"


def _run_body(payload: dict[str, Any]) -> dict[str, Any]:
    course = payload["course"]
    return {**course["run"], "courseReferenceNumber": course["courseReferenceNumber"]}


RUNS = RecordKind(gateway.COURSE_RUN, _run_body)
ENROLMENTS = RecordKind(gateway.COURSE_ENROLMENT, lambda payload: payload["enrolment"])
ATTENDANCE = RecordKind(gateway.ATTENDANCE, lambda payload: payload["attendance"])
RESULTS = RecordKind(gateway.ASSESSMENT, lambda payload: payload["assessment"])


@dataclass
class Section:
    """Records of one kind on the report: the run, its enrolments, one session's attendance,
    its results."""

    title: str
    items: list[ReconciledItem]


@dataclass
class RunReconciliation:
    run: CourseRun
    sections: list[Section] = field(default_factory=list)
    unreadable: str = ""  # why the gateway could not be read for this run

    @property
    def items(self) -> list[ReconciledItem]:
        return [item for section in self.sections for item in section.items]


@dataclass
class CohortReconciliation:
    cohort: Cohort
    runs: list[RunReconciliation]
    # Our records by (entity type, id): what a re-send queues.
    records: dict[tuple[str, str], Model] = field(default_factory=dict)

    @property
    def items(self) -> list[ReconciledItem]:
        return [item for run in self.runs for item in run.items]

    @property
    def counts(self) -> dict[str, int]:
        """Each outcome with its number of records (zero included), in the outcomes' order."""
        counts = dict.fromkeys(Outcome.values, 0)
        for item in self.items:
            counts[item.outcome] += 1
        return counts

    @property
    def differences(self) -> list[ReconciledItem]:
        return [item for item in self.items if item.differs]

    @property
    def unreadable(self) -> list[RunReconciliation]:
        return [run for run in self.runs if run.unreadable]

    @property
    def all_matched(self) -> bool:
        return not self.differences and not self.unreadable


def _learner_name(enrolment: CourseEnrollment) -> str:
    return enrolment.enrollment.user.full_name


def _consent_missing(enrolment: CourseEnrollment) -> str:
    return (
        f"{_learner_name(enrolment)} has not consented to sharing with the funding body."
        if not gateway.learner_may_be_sent(enrolment.enrollment.learner)
        else ""
    )


def _run_record(run: CourseRun) -> Record:
    reason = (
        "Cancelled before it reached the gateway."
        if run.status == CourseRunStatus.CANCELLED
        else ""
    )
    return Record(run, gateway.run_reference(run.pk), f"{run.course_ref} {run.title}", reason)


def _enrolment_record(enrolment: CourseEnrollment) -> Record:
    reason = (
        "Dropped before it reached the gateway."
        if enrolment.status == CourseEnrollmentStatus.DROPPED
        else _consent_missing(enrolment)
    )
    return Record(
        enrolment,
        gateway.enrolment_reference(enrolment.pk),
        _learner_name(enrolment),
        reason,
    )


def _attendance_record(record: AttendanceRecord) -> Record:
    reason = (
        "The register is not signed off yet."
        if record.signed_off_at is None
        else _consent_missing(record.enrolment)
    )
    return Record(
        record,
        gateway.attendance_reference(record.pk),
        f"{_learner_name(record.enrolment)}: {record.get_status_display()}",
        reason,
    )


def _result_record(assessment: Assessment) -> Record:
    if assessment.enrolment.course_run.moderated_at is None:
        reason = "The run's results are not moderated yet."
    elif assessment.result == AssessmentResult.VOID:
        reason = "Voided before it reached the gateway."
    else:
        reason = _consent_missing(assessment.enrolment)
    return Record(
        assessment,
        gateway.assessment_reference(assessment.pk),
        f"{_learner_name(assessment.enrolment)}: {assessment.assessment_type}",
        reason,
    )


def _by_run(records: Iterable[Any], run_id_of: Any) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for record in records:
        grouped.setdefault(run_id_of(record), []).append(record)
    return grouped


def cohort_runs(cohort: Cohort) -> QuerySet[CourseRun]:
    """The cohort's runs in the report's order (the page shows them a few at a time)."""
    return CourseRun.objects.filter(cohort=cohort).order_by("start_date", "course_ref", "pk")


def cohort_reconcile(
    cohort: Cohort, *, connector: Connector, runs: Sequence[CourseRun] | None = None
) -> CohortReconciliation:
    """Compare the cohort's runs (or only `runs`, runs of the cohort) and what belongs to them
    with what the gateway holds. Reads a few queries whatever the number of runs and learners,
    and one `retrieve` per run the gateway has accepted; a run the gateway cannot be read for
    says why."""
    runs = list(cohort_runs(cohort) if runs is None else runs)
    run_ids = [run.pk for run in runs]
    learner = ("enrollment__learner", "enrollment__user")
    enrolments = _by_run(
        CourseEnrollment.objects.filter(course_run_id__in=run_ids)
        .select_related(*learner, "course_run")
        .order_by("enrollment__user__full_name", "pk"),
        lambda enrolment: enrolment.course_run_id,
    )
    attendance = _by_run(
        AttendanceRecord.objects.filter(session__course_run_id__in=run_ids)
        .select_related("session", *(f"enrolment__{path}" for path in learner))
        .order_by("session__session_date", "session__start_time", "session_id", "pk"),
        lambda record: record.session.course_run_id,
    )
    results = _by_run(
        Assessment.objects.filter(enrolment__course_run_id__in=run_ids)
        .select_related(
            "assessor", "enrolment__course_run", *(f"enrolment__{path}" for path in learner)
        )
        .order_by("enrolment__enrollment__user__full_name", "assessment_type", "pk"),
        lambda assessment: assessment.enrolment.course_run_id,
    )
    run_states = sync_states_for(entity_type=RUNS.entity_type, entity_ids=[*run_ids])
    states = {RUNS.entity_type: run_states}

    def reconciled(kind: RecordKind, records: list[Record], theirs: Any) -> list[ReconciledItem]:
        return records_reconcile(kind, records, theirs, connector=connector, states=states)

    report = CohortReconciliation(cohort, [])
    for run in runs:
        held: dict[str, Any] = {}
        checked = RunReconciliation(run)
        state = run_states.get(str(run.pk))
        if state is not None and state.external_reference:
            try:
                held = connector.retrieve(state.external_reference)
            except RetrieveFailed as error:
                checked.unreadable = f"The gateway could not be read for this run: {error}"
                report.runs.append(checked)
                continue
        checked.sections = [
            Section(
                "Course run", reconciled(RUNS, [_run_record(run)], [held["run"]] if held else [])
            ),
            Section(
                "Enrolments",
                reconciled(
                    ENROLMENTS,
                    [_enrolment_record(item) for item in enrolments.get(run.pk, [])],
                    held.get("enrolments", []),
                ),
            ),
            *_attendance_sections(
                attendance.get(run.pk, []),
                reconciled(
                    ATTENDANCE,
                    [_attendance_record(item) for item in attendance.get(run.pk, [])],
                    held.get("attendance", []),
                ),
            ),
            Section(
                "Results",
                reconciled(
                    RESULTS,
                    [_result_record(item) for item in results.get(run.pk, [])],
                    held.get("assessments", []),
                ),
            ),
        ]
        report.runs.append(checked)
    for entity in [
        *runs,
        *(item for group in enrolments.values() for item in group),
        *(item for group in attendance.values() for item in group),
        *(item for group in results.values() for item in group),
    ]:
        report.records[(entity._meta.label_lower, str(entity.pk))] = entity
    return report


def _attendance_sections(
    records: Sequence[AttendanceRecord], items: Sequence[ReconciledItem]
) -> list[Section]:
    """Attendance per session (in the sessions' order), then any the gateway alone holds."""
    by_id = {item.entity_id: item for item in items}
    sessions: dict[int, list[AttendanceRecord]] = {}
    for record in records:
        sessions.setdefault(record.session_id, []).append(record)
    sections = []
    for records in sessions.values():
        session = records[0].session
        sections.append(
            Section(
                f"Attendance, {session.session_date:%-d %b %Y} {session.start_time:%H:%M}",
                [by_id[str(record.pk)] for record in records],
            )
        )
    only_theirs = [item for item in items if not item.entity_id]
    if only_theirs:
        sections.append(Section("Attendance the gateway alone holds", only_theirs))
    return sections


def reconciliation_resend(
    *,
    actor: User | None,
    cohort: Cohort,
    connector: Connector,
    entity_type: str = "",
    entity_id: str = "",
) -> list[ReconciledItem]:
    """Queue our version again of the record named (or of every record that is missing at the
    gateway or differs), each as a new job whose idempotency key names the gateway's state of
    it: asked twice against the same state, it is queued once. A record with a job still on
    its way is not queued again. Returns the items queued; audited."""
    permission_check(
        actor=actor,
        permission=MANAGE_SYNC,
        obj=cohort,
        action="delivery.reconciliation_resend",
    )
    report = cohort_reconcile(cohort, connector=connector)
    wanted = [
        item
        for item in report.items
        if item.resendable
        and not item.on_its_way
        and (not entity_type or (item.entity_type, item.entity_id) == (entity_type, entity_id))
    ]
    if entity_type and not wanted:
        raise ValidationError(
            "This record is not to be sent again now: it matches the gateway, is not sent, or "
            "a job of it is already on its way."
        )
    with transaction.atomic(durable=True):
        queued = []
        for item in wanted:
            entity = report.records[(item.entity_type, item.entity_id)]
            anew = item.outcome == Outcome.MISSING
            if sync_enqueue_many([entity], resend=item.resend_token, anew=anew):
                queued.append(item)
        audit_record(
            actor=actor,
            action="sync.reconciliation_resent",
            entity=cohort,
            new_values={
                "records": [f"{item.entity_type}#{item.entity_id}" for item in queued],
                "outcomes": sorted({item.outcome for item in queued}),
            },
        )
    return queued
