"""Certificates and statements of results: the institution's wording of each (one template per
kind), issuing one to a learner whose programme outcome is recorded (one at a time or for a
whole cohort), revoking it with a reason and reissuing it. A certificate is a PDF sealed with
the institution's certificate (signing.sealing), whose contents are frozen when it is issued:
the verify page shows them, and nothing a later change to a name or a result could alter."""

import datetime
import logging
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.models import Cohort
from delivery.access import ALL_COHORTS
from delivery.certificates_pdf import DEFAULT_WORDING, certificate_pdf, wording_check, wording_fill
from delivery.models import (
    Certificate,
    CertificateKind,
    CertificateTemplate,
    CourseEnrollment,
    CourseEnrollmentStatus,
)
from enrolments.models import CohortEnrollment, ProgrammeOutcome
from signing.documents import sha256_hex
from signing.sealing import pdf_seal
from signing.services.certificates import certificate_for_institution
from tenants.db import tenant_connection
from tenants.sites import institution_url
from tenants.storage import file_store, files_removed_on_failure
from tenants.zones import institution_zone

logger = logging.getLogger(__name__)

ISSUE = "delivery.issue_certificates"
# Unambiguous when read aloud or typed from paper: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LENGTH = 4, 4  # about 79 bits
DATE_FORMAT = "j F Y"
STORAGE_FAILED_MESSAGE = "The certificate could not be stored. Nothing was issued; try again."
TEMPLATE_FIELDS = ("title", "body", "signatory_name", "signatory_title", "footer")


def _issue_check(actor: User | None, cohort: Cohort, action: str) -> None:
    permission_check(actor=actor, action=action, permission=ISSUE, obj=cohort)


# Templates


def certificate_template_for(kind: str) -> CertificateTemplate:
    """The institution's template of `kind`, or the default wording (unsaved) until someone
    edits it."""
    template = CertificateTemplate.objects.filter(kind=kind).first()
    return template or CertificateTemplate(kind=kind, **DEFAULT_WORDING[kind])


def certificate_template_save(
    *, kind: str, actor: User, values: dict[str, str]
) -> CertificateTemplate:
    """Save the wording of `kind`'s template. The body and footer may use only the listed
    fields ({learner}, {programme} ...); certificates already issued keep their wording. The
    wording is the institution's: for who issues certificates in every cohort."""
    permission_check(
        actor=actor,
        action="delivery.certificate_template_save",
        permission=ISSUE,
        allowed=actor.may(ALL_COHORTS),
    )
    if kind not in CertificateKind.values:
        raise ValidationError("Not a kind of certificate.")
    errors: dict[str, list[ValidationError]] = {}
    for name in ("body", "footer", "title"):
        try:
            wording_check(values.get(name, ""))
        except ValidationError as error:
            errors[name] = [error]
    if not (values.get("title") or "").strip():
        errors.setdefault("title", []).append(ValidationError("Give the document a title."))
    if not (values.get("body") or "").strip():
        errors.setdefault("body", []).append(ValidationError("Write the wording."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(durable=True):
        template = CertificateTemplate.objects.select_for_update().filter(kind=kind).first()
        old = {name: getattr(template, name) for name in TEMPLATE_FIELDS} if template else {}
        template = template or CertificateTemplate(kind=kind)
        for name in TEMPLATE_FIELDS:
            setattr(template, name, (values.get(name) or "").strip())
        template.updated_by = actor
        template.full_clean()
        template.save()
        new = {name: getattr(template, name) for name in TEMPLATE_FIELDS}
        audit_record(
            actor=actor,
            action="certificate_template.saved",
            entity=template,
            old_values={name: value for name, value in old.items() if new[name] != value},
            new_values={name: value for name, value in new.items() if old.get(name) != value},
        )
    return template


# Contents


def certificate_kind_for(enrollment: CohortEnrollment) -> str:
    """A certificate for a learner who completed the programme, a statement of results for
    one who did not; nothing before the outcome is recorded."""
    if enrollment.programme_outcome == ProgrammeOutcome.COMPLETED:
        return CertificateKind.CERTIFICATE
    if enrollment.programme_outcome in (
        ProgrammeOutcome.NOT_YET_COMPETENT,
        ProgrammeOutcome.WITHDRAWN,
    ):
        return CertificateKind.STATEMENT_OF_RESULTS
    raise ValidationError(
        "The learner's programme outcome is not recorded yet: record it before issuing a "
        "certificate or a statement of results."
    )


def verification_code_new() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def verification_code_normalise(text: str) -> str:
    """A code as typed (any case, spaces or dashes anywhere) in its stored form, or "" when it
    cannot be one."""
    letters = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    if len(letters) != CODE_GROUPS * CODE_GROUP_LENGTH or set(letters) - set(CODE_ALPHABET):
        return ""
    return "-".join(
        letters[start : start + CODE_GROUP_LENGTH]
        for start in range(0, len(letters), CODE_GROUP_LENGTH)
    )


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _day(value: datetime.date | None) -> str:
    return date_format(value, DATE_FORMAT) if value else ""


RESULT_LABELS: dict[str, str] = {
    CourseEnrollmentStatus.COMPLETED: "Completed",
    CourseEnrollmentStatus.DROPPED: "Withdrawn from the course",
}


def course_results(enrollment: CohortEnrollment, *, final: bool) -> list[dict[str, str]]:
    """Each course the learner took in the programme with its result: as a certificate gives
    them (`final`: a course not completed is "Not completed") or as a transcript printed during
    the programme gives them ("In progress")."""
    rows = []
    course_enrollments = (
        CourseEnrollment.objects.filter(enrollment=enrollment)
        .select_related("course", "course_run")
        .order_by("course_run__start_date", "course__code")
    )
    for course_enrollment in course_enrollments:
        result = RESULT_LABELS.get(course_enrollment.status)
        if result is None:
            result = "Not completed" if final else "In progress"
        rows.append(
            {
                "code": course_enrollment.course.code,
                "name": course_enrollment.course.name,
                "credits": str(course_enrollment.course.credits),
                "result": result,
                "score": _number(course_enrollment.score),
                "grade": course_enrollment.grade,
                "grade_points": _number(course_enrollment.grade_points),
                "completed": str(course_enrollment.status == CourseEnrollmentStatus.COMPLETED),
            }
        )
    return rows


def _credits_achieved(courses: list[dict[str, str]]) -> int:
    return sum(int(course["credits"]) for course in courses if course["completed"] == "True")


def certificate_contents(
    enrollment: CohortEnrollment,
    *,
    kind: str,
    code: str,
    issued_at: datetime.datetime,
    template: CertificateTemplate | None = None,
) -> dict[str, Any]:
    """What the certificate shows, as text: frozen in Certificate.contents when issued."""
    cohort = enrollment.cohort
    programme = cohort.programme
    if programme is None:
        raise ValidationError(
            "The cohort has no programme: choose its programme before issuing certificates."
        )
    template = template or certificate_template_for(kind)
    institution = tenant_connection.tenant
    learner = enrollment.learner.full_name or enrollment.user.full_name
    values = {
        "learner": learner,
        "programme": programme.name,
        "institution": institution.name,
        "completion_date": _day(enrollment.completion_date),
    }
    courses = course_results(enrollment, final=True)
    return {
        "kind": kind,
        "kind_label": CertificateKind(kind).label,
        "title": wording_fill(template.title, values),
        "body": wording_fill(template.body, values),
        "footer": wording_fill(template.footer, values),
        "signatory_name": template.signatory_name,
        "signatory_title": template.signatory_title,
        "institution": institution.name,
        "learner": learner,
        "programme": programme.name,
        "programme_code": programme.code,
        "qualification": programme.get_degree_type_display(),
        "nqf_level": str(programme.nqf_level or ""),
        "saqa_id": programme.saqa_qualification_id,
        "cohort": cohort.name,
        "started_on": _day(cohort.start_date),
        "outcome": enrollment.get_programme_outcome_display(),
        "completion_date": values["completion_date"],
        "credits_achieved": _credits_achieved(courses),
        "courses": courses,
        "issued_on": _day(timezone.localtime(issued_at, institution_zone()).date()),
        "verification_code": code,
    }


def verify_url(code: str = "") -> str:
    """The public verify page, with the code filled in when given."""
    path = reverse("delivery_public:verify")
    return institution_url(tenant_connection.tenant, f"{path}?code={code}" if code else path)


def _sealed_pdf(contents: dict[str, Any], reason: str) -> bytes:
    document = certificate_pdf(
        contents,
        verify_url=verify_url(),
        colour=getattr(tenant_connection.tenant, "brand_colour", ""),
    )
    return pdf_seal(document, certificate=certificate_for_institution(), reason=reason)


# Issuing


def _issue_in_place(
    enrollment: CohortEnrollment,
    actor: User | None,
    stored: list[FieldFile],
    *,
    replaces: Certificate | None = None,
) -> Certificate:
    """Issue inside the caller's transaction, which holds the enrolment's lock."""
    kind = certificate_kind_for(enrollment)
    if Certificate.objects.filter(
        enrollment=enrollment, kind=kind, revoked_at__isnull=True
    ).exists():
        raise ValidationError(
            "%(learner)s already has a valid %(kind)s: revoke it or reissue it instead.",
            params={
                "learner": enrollment.learner.full_name,
                "kind": CertificateKind(kind).label.lower(),
            },
        )
    issued_at = timezone.now()
    code = verification_code_new()
    contents = certificate_contents(enrollment, kind=kind, code=code, issued_at=issued_at)
    sealed = _sealed_pdf(contents, reason=f"{contents['kind_label']} {code}")
    certificate = Certificate(
        enrollment=enrollment,
        kind=kind,
        verification_code=code,
        sha256=sha256_hex(sealed),
        issued_at=issued_at,
        issued_by=actor,
        replaces=replaces,
        contents=contents,
    )
    file_store(
        certificate.pdf,
        name=f"{code}.pdf",
        content=sealed,
        failure_message=STORAGE_FAILED_MESSAGE,
        described_as=f"the certificate {code} of enrolment {enrollment.pk}",
    )
    stored.append(certificate.pdf)
    certificate.save()
    audit_record(
        actor=actor,
        action="certificate.reissued" if replaces else "certificate.issued",
        entity=certificate,
        new_values={
            "enrollment": enrollment.pk,
            "kind": kind,
            "sha256": certificate.sha256,
            **({"replaces": replaces.pk} if replaces else {}),
        },
    )
    return certificate


def _locked(enrollment: CohortEnrollment) -> CohortEnrollment:
    locked: CohortEnrollment = (
        CohortEnrollment.objects.select_for_update(of=("self",))
        .select_related("cohort__programme", "learner", "user")
        .get(pk=enrollment.pk)
    )
    return locked


def certificate_issue(*, enrollment: CohortEnrollment, actor: User | None) -> Certificate:
    """Issue the learner's certificate (or statement of results, by their programme outcome):
    the sealed PDF stored and its contents frozen. Refused while the outcome is not recorded or
    while a valid one of that kind exists."""
    _issue_check(actor, enrollment.cohort, "delivery.certificate_issue")
    with files_removed_on_failure() as stored, transaction.atomic(durable=True):
        return _issue_in_place(_locked(enrollment), actor, stored)


def certificate_revoke(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """Revoke a certificate: it stays on record and verifies as revoked."""
    _issue_check(actor, certificate.enrollment.cohort, "delivery.certificate_revoke")
    reason = _reason_check(reason)
    with transaction.atomic(durable=True):
        return _revoke_in_place(certificate, actor, reason)


def _reason_check(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason: it is kept with the certificate."})
    return reason


def _revoke_in_place(certificate: Certificate, actor: User, reason: str) -> Certificate:
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.is_revoked:
        raise ValidationError("This certificate was already revoked.")
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = actor
    certificate.revocation_reason = reason
    certificate.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
    audit_record(
        actor=actor,
        action="certificate.revoked",
        entity=certificate,
        new_values={"sha256": certificate.sha256, "revocation_reason": reason},
    )
    return certificate


def certificate_reissue(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """Replace a certificate with a new one made from today's records (a corrected name or
    result, or a changed outcome): the old one is revoked with `reason` (unless it already was)
    and the new one points back to it."""
    _issue_check(actor, certificate.enrollment.cohort, "delivery.certificate_reissue")
    reason = _reason_check(reason)
    with files_removed_on_failure() as stored, transaction.atomic(durable=True):
        enrollment = _locked(certificate.enrollment)
        if Certificate.objects.filter(replaces=certificate).exists():
            raise ValidationError("This certificate was already reissued.")
        if not certificate.is_revoked:
            certificate = _revoke_in_place(certificate, actor, reason)
        return _issue_in_place(enrollment, actor, stored, replaces=certificate)


# Issuing for a cohort


def certificates_due(cohort: Cohort) -> list[CohortEnrollment]:
    """The cohort's learners whose outcome is recorded and who hold no valid certificate or
    statement of results for it."""
    enrollments = (
        CohortEnrollment.objects.filter(cohort=cohort)
        .exclude(programme_outcome="")
        .select_related("learner")
        .prefetch_related("certificates")
        .order_by("pk")
    )
    due = []
    for enrollment in enrollments:
        kind = certificate_kind_for(enrollment)
        held = {c.kind for c in enrollment.certificates.all() if not c.is_revoked}
        if kind not in held:
            due.append(enrollment)
    return due


def certificates_issue_for_cohort(*, cohort: Cohort, actor: User) -> int:
    """Issue every certificate the cohort's learners are due, in the background (one task per
    part of the cohort, which the worker's processes share); the cohort's certificates page
    shows them as they come. Returns how many were queued."""
    from delivery.tasks import certificates_issue_part_task

    _issue_check(actor, cohort, "delivery.certificates_issue_for_cohort")
    if cohort.programme_id is None:
        raise ValidationError(
            "The cohort has no programme: choose its programme before issuing certificates."
        )
    ids = [enrollment.pk for enrollment in certificates_due(cohort)]
    if not ids:
        raise ValidationError("Every learner whose outcome is recorded already has theirs.")
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            action="certificate.batch_started",
            entity=cohort,
            new_values={"learners": len(ids)},
        )
        for start in range(0, len(ids), BATCH_PART_SIZE):
            certificates_issue_part_task.delay_on_commit(
                cohort.pk, actor.pk, ids[start : start + BATCH_PART_SIZE]
            )
    return len(ids)


# One task issues this many: small enough that the worker's processes share a cohort evenly.
BATCH_PART_SIZE = 20


@dataclass
class BatchOutcome:
    issued: list[Certificate] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # enrolment id: why


def certificates_issue_batch(
    *, enrollments: list[CohortEnrollment], actor: User | None
) -> BatchOutcome:
    """Issue each learner's certificate in its own transaction: one that cannot be issued (its
    outcome changed, one was issued meanwhile, the storage failed) is skipped with the reason
    and the others go on. Idempotent, so a redelivered task issues nothing twice."""
    outcome = BatchOutcome()
    for enrollment in enrollments:
        try:
            outcome.issued.append(certificate_issue(enrollment=enrollment, actor=actor))
        except ValidationError as error:
            outcome.skipped[enrollment.pk] = " ".join(error.messages)
        except PermissionDenied:
            outcome.skipped[enrollment.pk] = "You may no longer issue certificates here."
        except IntegrityError:  # issued by someone else at the same moment
            outcome.skipped[enrollment.pk] = "It was issued meanwhile."
    if outcome.skipped:
        logger.info("Certificates skipped in a batch: %s", outcome.skipped)
    return outcome
