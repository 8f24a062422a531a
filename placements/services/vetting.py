"""Learners' vetting (seed 001 `vetting_records`): the institution's vetting types, what each
programme requires, and each check from opening to its decision, its evidence and its expiry.

Every change checks `placements.manage_vetting` before its transaction (the system, `actor=None`,
expires and warns), runs in one transaction with the record locked and writes its audit event.
Evidence goes through the checks students' documents go through (enrolments.uploads) and the
same optional virus scan (enrolments.scanning)."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from academics.models import Programme
from accounts.models import User
from accounts.permissions import permission_check
from accounts.selectors import users_with_permission
from audit.services import audit_record, kept_out
from cohorts.models import DocumentType, FileKind
from enrolments.models import REVIEWABLE_SCAN_STATUSES, ScanStatus
from enrolments.scanning import upload_scan_record
from enrolments.uploads import CheckedUpload
from learners.models import Learner
from notifications.services import email_enqueue
from placements.models import (
    OPEN_VETTING_STATUSES,
    ProgrammeVettingRequirement,
    VettingEvidence,
    VettingRecord,
    VettingStatus,
    VettingType,
)
from tenants.db import tenant_connection
from tenants.sites import institution_url

MANAGE_VETTING = "placements.manage_vetting"
# Evidence is a scan or a photo of a certificate: what students may upload as documents.
EVIDENCE_KINDS = [FileKind.PDF, FileKind.JPEG, FileKind.PNG]
EVIDENCE_MAX_SIZE_MB = 10
# How long before its expiry a clearance is warned about (once), and how far ahead the lists'
# "expiring" filter looks.
EXPIRY_WARNING_DAYS = 30
MAX_VALIDITY_DAYS = 3650


def evidence_document_type(vetting_type: VettingType) -> DocumentType:
    """What enrolments.uploads checks an evidence file against (never saved): the kinds and
    size limit of evidence, named after the vetting type in its messages."""
    return DocumentType(
        name=f"{vetting_type.name} evidence",
        accepted_kinds=list(EVIDENCE_KINDS),
        max_size_mb=EVIDENCE_MAX_SIZE_MB,
    )


def evidence_is_reviewable(evidence: VettingEvidence) -> bool:
    """A file a reviewer may open and rely on: still stored, and scanned clean (or no scanner)."""
    return bool(evidence.file) and evidence.scan_status in REVIEWABLE_SCAN_STATUSES


# --- Vetting types ----------------------------------------------------------------------------


def _vetting_type_clean(
    *,
    name: str,
    description: str,
    expires: bool,
    validity_days: int | None,
    existing: VettingType | None,
) -> tuple[str, str, int | None]:
    name = " ".join(name.split())
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the vetting type a name."]
    elif (
        VettingType.objects.filter(name__iexact=name)
        .exclude(pk=existing.pk if existing else 0)
        .exists()
    ):
        errors["name"] = [f"There is already a vetting type named {name}."]
    if not expires and validity_days is not None:
        errors["validity_days"] = [
            "Only a type whose clearances expire has a usual validity: tick “Clearances "
            "expire” or leave this empty."
        ]
    elif validity_days is not None and not 1 <= validity_days <= MAX_VALIDITY_DAYS:
        errors["validity_days"] = [f"Give a number of days from 1 to {MAX_VALIDITY_DAYS}."]
    if errors:
        raise ValidationError(errors)
    return name, description.strip(), validity_days


def _type_values(vetting_type: VettingType) -> dict[str, Any]:
    return {
        "name": vetting_type.name,
        "code": vetting_type.code,
        "expires": vetting_type.expires,
        "validity_days": vetting_type.validity_days,
        "is_active": vetting_type.is_active,
    }


def vetting_type_create(
    *,
    actor: User | None,
    name: str,
    code: str,
    description: str = "",
    expires: bool = False,
    validity_days: int | None = None,
) -> VettingType:
    """Add one of the institution's own vetting types; its code never changes afterwards."""
    permission_check(actor=actor, permission=MANAGE_VETTING, action="vetting_type.create")
    name, description, validity_days = _vetting_type_clean(
        name=name,
        description=description,
        expires=expires,
        validity_days=validity_days,
        existing=None,
    )
    code = code.strip().lower()
    with transaction.atomic(durable=True):
        # Types are few and made rarely: the table lock makes the uniqueness checks hold.
        list(VettingType.objects.select_for_update().order_by("pk").values_list("pk"))
        if VettingType.objects.filter(code=code).exists():
            raise ValidationError({"code": [f"There is already a vetting type with code {code}."]})
        vetting_type = VettingType(
            name=name,
            code=code,
            description=description,
            expires=expires,
            validity_days=validity_days,
        )
        vetting_type.full_clean()
        vetting_type.save()
        audit_record(
            actor=actor,
            action="vetting_type.create",
            entity=vetting_type,
            new_values=_type_values(vetting_type),
        )
    return vetting_type


def vetting_type_update(
    *,
    actor: User | None,
    vetting_type: VettingType,
    name: str,
    description: str,
    expires: bool,
    validity_days: int | None,
) -> VettingType:
    """Change a type's name, description and expiry. Clearances already given keep their
    expiry dates: the change applies to the next clearance."""
    permission_check(actor=actor, permission=MANAGE_VETTING, action="vetting_type.update")
    with transaction.atomic(durable=True):
        vetting_type = VettingType.objects.select_for_update().get(pk=vetting_type.pk)
        name, description, validity_days = _vetting_type_clean(
            name=name,
            description=description,
            expires=expires,
            validity_days=validity_days,
            existing=vetting_type,
        )
        old_values = _type_values(vetting_type)
        vetting_type.name = name
        vetting_type.description = description
        vetting_type.expires = expires
        vetting_type.validity_days = validity_days
        vetting_type.save(update_fields=["name", "description", "expires", "validity_days"])
        audit_record(
            actor=actor,
            action="vetting_type.update",
            entity=vetting_type,
            old_values=old_values,
            new_values=_type_values(vetting_type),
        )
    return vetting_type


def vetting_type_active_set(
    *, actor: User | None, vetting_type: VettingType, is_active: bool
) -> VettingType:
    """Deactivate a type (no new records of it; those there are stay) or bring it back. A type
    a programme still requires cannot be deactivated: its learners could never be cleared."""
    permission_check(actor=actor, permission=MANAGE_VETTING, action="vetting_type.active_set")
    with transaction.atomic(durable=True):
        vetting_type = VettingType.objects.select_for_update().get(pk=vetting_type.pk)
        if vetting_type.is_active == is_active:
            return vetting_type
        if not is_active:
            requiring = list(
                Programme.objects.filter(vetting_requirements__vetting_type=vetting_type)
                .order_by("name")
                .values_list("name", flat=True)
            )
            if requiring:
                raise ValidationError(
                    f"{vetting_type.name} is required by {', '.join(requiring)}. Remove it from "
                    "what those programmes require first."
                )
        vetting_type.is_active = is_active
        vetting_type.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="vetting_type.activate" if is_active else "vetting_type.deactivate",
            entity=vetting_type,
            old_values={"is_active": not is_active},
            new_values={"is_active": is_active},
        )
    return vetting_type


# --- What a programme requires ----------------------------------------------------------------


def programme_vetting_requirements_set(
    *, actor: User | None, programme: Programme, vetting_types: list[VettingType]
) -> list[VettingType]:
    """Make `vetting_types` exactly what the programme's learners need cleared before a
    placement. A type newly added must be active."""
    permission_check(
        actor=actor, permission=MANAGE_VETTING, action="programme.vetting_requirements_set"
    )
    wanted = {vetting_type.pk for vetting_type in vetting_types}
    with transaction.atomic(durable=True):
        programme = Programme.objects.select_for_update().get(pk=programme.pk)
        current = set(
            ProgrammeVettingRequirement.objects.filter(programme=programme).values_list(
                "vetting_type_id", flat=True
            )
        )
        types = {t.pk: t for t in VettingType.objects.filter(pk__in=wanted | current)}
        inactive = sorted(types[pk].name for pk in wanted - current if not types[pk].is_active)
        if inactive:
            raise ValidationError(
                f"{', '.join(inactive)} is no longer in use: make it active again on the "
                "vetting types page before a programme can require it."
            )
        ProgrammeVettingRequirement.objects.filter(
            programme=programme, vetting_type_id__in=current - wanted
        ).delete()
        ProgrammeVettingRequirement.objects.bulk_create(
            ProgrammeVettingRequirement(programme=programme, vetting_type_id=pk)
            for pk in sorted(wanted - current)
        )
        if wanted != current:
            audit_record(
                actor=actor,
                action="programme.vetting_requirements_set",
                entity=programme,
                old_values={"vetting_types": sorted(types[pk].code for pk in current)},
                new_values={"vetting_types": sorted(types[pk].code for pk in wanted)},
            )
    return sorted((types[pk] for pk in wanted), key=lambda t: t.name)


# --- Records ----------------------------------------------------------------------------------


def _learner_lock(learner_id: int) -> None:
    """Lock the learner's row before any of their records: placements lock it before reading
    clearance, so a clearance failed, withdrawn or expiring now cannot let a placement be
    confirmed on it at the same moment. Always learner first, then record."""
    Learner.objects.select_for_update().filter(pk=learner_id).get()


def _record_lock(record: VettingRecord) -> VettingRecord:
    locked: VettingRecord = (
        VettingRecord.objects.select_for_update(of=("self",))
        .select_related("vetting_type", "learner")
        .get(pk=record.pk)
    )
    return locked


def _state_check(record: VettingRecord, allowed: tuple[str, ...], doing: str) -> None:
    if record.status not in allowed:
        raise ValidationError(
            f"This {record.vetting_type.name.lower()} check is "
            f"{record.get_status_display().lower()}, so it cannot be {doing}."
        )


def vetting_record_open(
    *, actor: User | None, learner: Learner, vetting_type: VettingType, reference: str = ""
) -> VettingRecord:
    """Open a check of one type for a learner (a renewal is a new record). At most one of a
    type is open at a time: checked under the learner's lock, which the database's constraint
    backs."""
    permission_check(actor=actor, permission=MANAGE_VETTING, action="vetting.open")
    with transaction.atomic(durable=True):
        _learner_lock(learner.pk)
        vetting_type = VettingType.objects.get(pk=vetting_type.pk)
        if not vetting_type.is_active:
            raise ValidationError(f"{vetting_type.name} is no longer in use.")
        if VettingRecord.objects.filter(
            learner=learner, vetting_type=vetting_type, status__in=OPEN_VETTING_STATUSES
        ).exists():
            raise ValidationError(
                f"{learner.full_name} already has an open {vetting_type.name.lower()} check: "
                "decide that one (clear or fail it) before opening another."
            )
        record: VettingRecord = VettingRecord.objects.create(
            learner=learner,
            vetting_type=vetting_type,
            reference=reference.strip(),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="vetting.open",
            entity=record,
            new_values={
                "learner": learner.pk,
                "vetting_type": vetting_type.code,
                "reference": kept_out(record.reference),
            },
        )
    return record


def _decision_save(
    record: VettingRecord,
    *,
    actor: User | None,
    action: str,
    old_status: str,
    fields: list[str],
    extra: dict[str, Any] | None = None,
) -> None:
    """Save a transition with who decided, when and why, and audit it."""
    record.reviewer = actor
    record.reviewed_at = timezone.now()
    record.save(update_fields=["status", "reviewer", "reviewed_at", "reason", *fields])
    audit_record(
        actor=actor,
        action=action,
        entity=record,
        old_values={"status": old_status},
        new_values={"status": record.status, "reason": kept_out(record.reason), **(extra or {})},
    )


def vetting_record_start(
    *, actor: User | None, record: VettingRecord, reference: str = ""
) -> VettingRecord:
    """The check has been asked for (a police clearance applied for): pending → in progress."""
    permission_check(actor=actor, permission=MANAGE_VETTING, action="vetting.start")
    with transaction.atomic(durable=True):
        record = _record_lock(record)
        _state_check(record, (VettingStatus.PENDING,), "started")
        old_status = record.status
        record.start()
        if reference.strip():
            record.reference = reference.strip()
        _decision_save(
            record,
            actor=actor,
            action="vetting.start",
            old_status=old_status,
            fields=["reference"],
            extra={"reference": kept_out(record.reference)},
        )
    return record


def clearance_expiry_default(
    vetting_type: VettingType, today: datetime.date
) -> datetime.date | None:
    """The expiry date offered when clearing: today plus the type's usual validity."""
    if not vetting_type.expires or not vetting_type.validity_days:
        return None
    return today + datetime.timedelta(days=vetting_type.validity_days)


def _expiry_clean(vetting_type: VettingType, expires_on: datetime.date | None) -> None:
    if vetting_type.expires and expires_on is None:
        raise ValidationError(
            {"expires_on": [f"A {vetting_type.name.lower()} clearance expires: give its date."]}
        )
    if not vetting_type.expires and expires_on is not None:
        raise ValidationError(
            {
                "expires_on": [
                    f"{vetting_type.name} clearances do not expire: leave the expiry date empty."
                ]
            }
        )
    if expires_on is not None and expires_on <= timezone.localdate():
        raise ValidationError(
            {
                "expires_on": [
                    "This date has passed (or is today): an expired clearance does not count. "
                    "Check the date on the certificate."
                ]
            }
        )


def vetting_record_clear(
    *,
    actor: User | None,
    record: VettingRecord,
    expires_on: datetime.date | None,
    reason: str = "",
    reference: str = "",
) -> VettingRecord:
    """The reviewer found the evidence good. Needs at least one reviewable evidence file, and
    an expiry date after today exactly when the type expires."""
    permission_check(actor=actor, permission=MANAGE_VETTING, action="vetting.clear")
    with transaction.atomic(durable=True):
        record = _record_lock(record)
        _state_check(record, OPEN_VETTING_STATUSES, "cleared")
        _expiry_clean(record.vetting_type, expires_on)
        if not any(evidence_is_reviewable(e) for e in record.evidence.all()):
            raise ValidationError(
                "Upload the evidence first (a certificate or report, scanned clean): a "
                "clearance is given on evidence that can be reviewed."
            )
        old_status = record.status
        record.clear()
        record.expires_on = expires_on
        record.reason = reason.strip()
        if reference.strip():
            record.reference = reference.strip()
        _decision_save(
            record,
            actor=actor,
            action="vetting.clear",
            old_status=old_status,
            fields=["expires_on", "reference"],
            extra={
                "expires_on": str(expires_on) if expires_on else None,
                "reference": kept_out(record.reference),
            },
        )
    return record


def _reason_required(reason: str, why: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [f"Give the reason {why}: the learner is shown it."]})
    return reason


def vetting_record_fail(*, actor: User | None, record: VettingRecord, reason: str) -> VettingRecord:
    """The check found something, or the evidence would not do; the reason is kept."""
    permission_check(actor=actor, permission=MANAGE_VETTING, action="vetting.fail")
    reason = _reason_required(reason, "the check failed")
    with transaction.atomic(durable=True):
        _learner_lock(record.learner_id)
        record = _record_lock(record)
        _state_check(record, OPEN_VETTING_STATUSES, "failed")
        old_status = record.status
        record.fail()
        record.reason = reason
        _decision_save(record, actor=actor, action="vetting.fail", old_status=old_status, fields=[])
    return record


def vetting_record_withdraw(
    *, actor: User | None, record: VettingRecord, reason: str
) -> VettingRecord:
    """Withdraw a clearance before its expiry date (new information, a certificate found
    forged): it expires now, with the reason."""
    permission_check(actor=actor, permission=MANAGE_VETTING, action="vetting.withdraw")
    reason = _reason_required(reason, "the clearance is withdrawn")
    with transaction.atomic(durable=True):
        _learner_lock(record.learner_id)
        record = _record_lock(record)
        _state_check(record, (VettingStatus.CLEARED,), "withdrawn")
        old_status = record.status
        record.expire()
        record.reason = reason
        _decision_save(
            record, actor=actor, action="vetting.withdraw", old_status=old_status, fields=[]
        )
    return record


# --- Expiry (the beat task, as the system) ----------------------------------------------------


def vetting_record_expire(*, record_id: int, today: datetime.date) -> bool:
    """Expire a clearance whose expiry date is before `today`. False, changing nothing, when
    it is no longer due (already expired, withdrawn or renewed by another run). Nobody is
    e-mailed: the warning went a month before, and a renewal may already stand in for it."""
    learner_id = (
        VettingRecord.objects.filter(pk=record_id).values_list("learner_id", flat=True).first()
    )
    if learner_id is None:
        return False
    with transaction.atomic(durable=True):
        _learner_lock(learner_id)
        record = (
            VettingRecord.objects.select_for_update()
            .filter(pk=record_id, status=VettingStatus.CLEARED, expires_on__lt=today)
            .first()
        )
        if record is None:
            return False
        assert record.expires_on is not None  # noqa: S101 (filtered above; for mypy)
        record.expire()
        record.reason = f"Expired on {record.expires_on:%-d %B %Y}"
        record.reviewer = None
        record.reviewed_at = timezone.now()
        record.save(update_fields=["status", "reason", "reviewer", "reviewed_at"])
        audit_record(
            action="vetting.expire",
            entity=record,
            old_values={"status": VettingStatus.CLEARED},
            new_values={"status": record.status, "reason": record.reason},
        )
    return True


def clearance_renewed() -> Exists:
    """For a cleared record in a queryset: the learner holds another clearance of the same type
    that stays valid longer (no expiry date, or a later one), so this one running out needs
    nobody's attention."""
    return Exists(
        VettingRecord.objects.filter(
            learner=OuterRef("learner"),
            vetting_type=OuterRef("vetting_type"),
            status=VettingStatus.CLEARED,
        )
        .exclude(pk=OuterRef("pk"))
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=OuterRef("expires_on")))
    )


def vetting_expiry_warn(*, record_id: int, today: datetime.date) -> bool:
    """E-mail, once per record, that a clearance expires within EXPIRY_WARNING_DAYS: to the
    people who manage vetting and to the learner if they have an account. The record's lock and
    `expiry_warned_at` make a second (or concurrent) run send nothing. A clearance already
    renewed (`clearance_renewed`) is not warned about. False when not due."""
    with transaction.atomic(durable=True):
        record = (
            VettingRecord.objects.select_for_update(of=("self",))
            .select_related("vetting_type", "learner__user")
            .filter(
                pk=record_id,
                status=VettingStatus.CLEARED,
                expiry_warned_at__isnull=True,
                expires_on__gte=today,
                expires_on__lte=today + datetime.timedelta(days=EXPIRY_WARNING_DAYS),
            )
            .exclude(clearance_renewed())
            .first()
        )
        if record is None:
            return False
        record.expiry_warned_at = timezone.now()
        record.save(update_fields=["expiry_warned_at"])
        learner = record.learner
        context = {
            "learner_name": learner.full_name,
            "vetting_type": record.vetting_type.name,
            "expires_on": f"{record.expires_on:%-d %B %Y}",
        }
        staff_url = institution_url(tenant_connection.tenant, record.get_absolute_url())
        recipients = 0
        for person in users_with_permission(MANAGE_VETTING):
            email_enqueue(
                recipient=person.email,
                template="vetting_expiring",
                context={**context, "full_name": person.full_name, "url": staff_url},
            )
            recipients += 1
        if learner.user is not None and learner.user.is_active:
            email_enqueue(
                recipient=learner.user.email,
                template="vetting_expiring_learner",
                context={
                    **context,
                    "full_name": learner.full_name,
                    "url": institution_url(
                        tenant_connection.tenant, reverse("placements:my_vetting")
                    ),
                },
            )
            recipients += 1
        audit_record(
            action="vetting.expiry_warned",
            entity=record,
            new_values={"expires_on": str(record.expires_on), "recipients": recipients},
        )
    return True


# --- Evidence ---------------------------------------------------------------------------------


def vetting_evidence_add(
    *, actor: User | None, record: VettingRecord, checked: CheckedUpload, scan_status: str
) -> VettingEvidence:
    """Store an upload that passed enrolments.uploads' checks as evidence of an open record,
    under a random name (VettingEvidence's upload path). If the change is refused or fails
    after the file was written, the file is removed again."""
    permission_check(actor=actor, permission=MANAGE_VETTING, action="vetting.evidence_add")
    stored_name = ""
    evidence = VettingEvidence(
        file=checked.file,
        original_name=checked.original_name,
        size=checked.size,
        content_type=checked.content_type,
        sha256=checked.sha256,
        scan_status=scan_status,
        uploaded_by=actor,
    )
    try:
        with transaction.atomic(durable=True):
            record = _record_lock(record)
            _state_check(record, OPEN_VETTING_STATUSES, "given more evidence")
            evidence.record = record
            # Write the file first, to know its stored name should the insert fail.
            evidence.file.save(evidence.original_name, evidence.file.file, save=False)
            stored_name = evidence.file.name or ""
            evidence.save()
            audit_record(
                actor=actor,
                action="vetting.evidence_add",
                entity=evidence,
                new_values={
                    "record": record.pk,
                    "sha256": evidence.sha256,
                    "size": evidence.size,
                    "content_type": evidence.content_type,
                    "original_sha256": checked.original_sha256,
                },
            )
            if scan_status == ScanStatus.SCANNING:
                from placements.tasks.vetting import vetting_evidence_scan

                vetting_evidence_scan.apply_async_on_commit((evidence.pk,))
    except BaseException:
        # The row is rolled back; the file, written by the storage, is not.
        if stored_name:
            evidence.file.storage.delete(stored_name)
        raise
    return evidence


def vetting_evidence_scan_record(
    *, evidence_id: int, verdict: str, signature: str = "", detail: str = ""
) -> VettingEvidence | None:
    """Record the virus scanner's verdict on evidence waiting for one (enrolments.scanning.
    upload_scan_record): an infected file is deleted once this commits and can never count for
    a clearance."""
    return upload_scan_record(
        VettingEvidence,
        pk=evidence_id,
        verdict=verdict,
        action="vetting.evidence",
        signature=signature,
        detail=detail,
    )
