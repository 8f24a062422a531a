"""What the certificate pages read: the cohorts and learners to issue to, one certificate for
staff or for its learner, the public check of a code or a PDF, and the learner's transcript."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from accounts.permissions import reachable
from cohorts.models import Cohort
from delivery.certificates_pdf import certificate_pdf
from delivery.models import Certificate, CertificateKind, CourseEnrollment
from delivery.services.certificates import (
    ISSUE,
    certificate_template_for,
    course_results,
    verification_code_normalise,
    verify_url,
)
from enrolments.models import CohortEnrollment
from signing.models import RetiredDocument
from signing.sealing import pdf_seal, pdf_seal_check
from signing.selectors import certificates_for_verify, retired_document_for
from signing.services.certificates import certificate_for_institution
from tenants.db import tenant_connection
from tenants.zones import institution_zone


def cohorts_for_certificates(*, user: User) -> QuerySet[Cohort]:
    """The cohorts `user` issues certificates in (those with a programme), with how many
    learners have an outcome recorded and how many hold a valid certificate."""
    if not user.may(ISSUE):
        return Cohort.objects.none()
    return (
        reachable(user, Cohort.objects.filter(programme__isnull=False))
        .select_related("programme")
        .annotate(
            learner_count=Count("enrollments", distinct=True),
            outcome_count=Count(
                "enrollments", filter=~Q(enrollments__programme_outcome=""), distinct=True
            ),
            issued_count=Count(
                "enrollments",
                filter=Q(enrollments__certificates__revoked_at__isnull=True),
                distinct=True,
            ),
        )
        .order_by("-start_date", "name")
    )


def cohort_for_certificates(*, user: User, pk: int) -> Cohort | None:
    return cohorts_for_certificates(user=user).filter(pk=pk).first()


def cohort_certificate_rows(cohort: Cohort) -> QuerySet[CohortEnrollment]:
    """The cohort's learners with their outcome and every certificate issued to them (valid
    first), in a fixed number of queries."""
    return (
        CohortEnrollment.objects.filter(cohort=cohort)
        .select_related("learner", "user")
        .prefetch_related(
            Prefetch(
                "certificates",
                queryset=Certificate.objects.order_by("revoked_at", "-issued_at"),
            )
        )
        .order_by("learner__last_name", "learner__first_name", "pk")
    )


def certificate_for_staff(*, user: User, pk: int) -> Certificate | None:
    """A certificate of a cohort `user` issues certificates in, else None (a 404)."""
    if not user.may(ISSUE):
        return None
    return (
        Certificate.objects.filter(enrollment__cohort__in=reachable(user, Cohort.objects.all()))
        .select_related(
            "enrollment__cohort",
            "enrollment__learner",
            "issued_by",
            "revoked_by",
            "replaces",
        )
        .filter(pk=pk)
        .first()
    )


def certificate_successor(certificate: Certificate) -> Certificate | None:
    return Certificate.objects.filter(replaces=certificate).first()


def learner_enrollments_with_results(*, user: User) -> QuerySet[CohortEnrollment]:
    """The signed-in learner's own enrolments in a programme, with their valid certificates."""
    return (
        CohortEnrollment.objects.filter(user=user, cohort__programme__isnull=False)
        .select_related("cohort__programme")
        .prefetch_related(
            Prefetch(
                "certificates",
                queryset=Certificate.objects.filter(revoked_at__isnull=True).order_by("kind"),
                to_attr="valid_certificates",
            )
        )
        .annotate(
            course_count=Count("course_enrollments", distinct=True),
        )
        .order_by("-cohort__start_date", "pk")
    )


def learner_certificate(*, user: User, pk: int) -> Certificate | None:
    """One of the learner's own valid certificates, else None (a 404)."""
    return Certificate.objects.filter(enrollment__user=user, revoked_at__isnull=True, pk=pk).first()


def learner_enrollment(*, user: User, pk: int) -> CohortEnrollment | None:
    return (
        CohortEnrollment.objects.filter(user=user, cohort__programme__isnull=False, pk=pk)
        .select_related("cohort__programme", "learner", "user")
        .first()
    )


def transcript_pdf(enrollment: CohortEnrollment) -> bytes:
    """The learner's transcript: every course of the programme with its result so far, sealed
    so that it cannot be changed unnoticed. Made when asked for, never stored."""
    cohort = enrollment.cohort
    programme = cohort.programme
    institution = tenant_connection.tenant
    courses = course_results(enrollment, final=False)
    today = timezone.localtime(timezone.now(), institution_zone()).date()

    contents = {
        "kind_label": "Transcript",
        "title": "Transcript of results",
        "body": "The courses of the programme and the results recorded to date. Only a "
        "certificate or a statement of results, with its verification code, confirms the "
        "programme's outcome.",
        "footer": "",
        "institution": institution.name,
        "learner": enrollment.learner.full_name or enrollment.user.full_name,
        "programme": programme.name if programme else "",
        "programme_code": programme.code if programme else "",
        "qualification": programme.get_degree_type_display() if programme else "",
        "nqf_level": str(programme.nqf_level or "") if programme else "",
        "saqa_id": programme.saqa_qualification_id if programme else "",
        "cohort": cohort.name,
        "started_on": date_format(cohort.start_date, "j F Y") if cohort.start_date else "",
        "outcome": enrollment.get_programme_outcome_display() or "In progress",
        "completion_date": date_format(enrollment.completion_date, "j F Y")
        if enrollment.completion_date
        else "",
        "credits_achieved": sum(
            int(course["credits"]) for course in courses if course["completed"] == "True"
        ),
        "courses": courses,
        "issued_on": date_format(today, "j F Y"),
        "verification_code": "",
        "transcript": True,
    }
    document = certificate_pdf(
        contents,
        verify_url=verify_url(),
        colour=getattr(institution, "brand_colour", ""),
    )
    return pdf_seal(document, certificate=certificate_for_institution(), reason="Transcript")


def template_preview_pdf(kind: str) -> bytes:
    """The template of `kind` filled with example values, marked as a preview, unsealed."""
    from delivery.certificates_pdf import wording_fill

    template = certificate_template_for(kind)
    values = {
        "learner": "Thandi Mokoena",
        "programme": "Business Administration NQF 4",
        "institution": tenant_connection.tenant.name,
        "completion_date": "28 November 2027",
    }
    contents = {
        "kind_label": CertificateKind(kind).label,
        "title": wording_fill(template.title, values),
        "body": wording_fill(template.body, values),
        "footer": wording_fill(template.footer, values),
        "signatory_name": template.signatory_name,
        "signatory_title": template.signatory_title,
        "institution": values["institution"],
        "learner": values["learner"],
        "programme": values["programme"],
        "programme_code": "BA4",
        "qualification": "Learnership",
        "nqf_level": "4",
        "saqa_id": "",
        "cohort": "Business Administration 2027",
        "started_on": "1 February 2027",
        "outcome": "Completed" if kind == CertificateKind.CERTIFICATE else "Not yet competent",
        "completion_date": values["completion_date"],
        "credits_achieved": 24,
        "courses": [
            {
                "code": "BA401",
                "name": "Business communication",
                "credits": "12",
                "result": "Completed",
                "score": "78",
                "grade": "B",
            },
            {
                "code": "BA402",
                "name": "Office administration",
                "credits": "12",
                "result": "Completed",
                "score": "64",
                "grade": "C",
            },
        ],  # fmt: skip
        "issued_on": "5 December 2027",
        "verification_code": "ABCD-EFGH-JKMN-PQRS",
    }
    return certificate_pdf(
        contents,
        verify_url=verify_url(),
        colour=getattr(tenant_connection.tenant, "brand_colour", ""),
        preview=True,
    )


# The public check


@dataclass(frozen=True)
class CertificateCheck:
    """What the verify page says: `certificate` is set when it is one we issued (genuine, or
    revoked: `revoked`); `ok` only when it is genuine, unchanged and not revoked."""

    ok: bool
    reason: str
    certificate: Certificate | None = None
    retired: RetiredDocument | None = None

    @property
    def revoked(self) -> bool:
        return self.certificate is not None and self.certificate.is_revoked


def _found(certificate: Certificate) -> CertificateCheck:
    retired = retired_document_for(certificate.sha256)
    if retired is not None:
        return CertificateCheck(
            False,
            f"This {certificate.get_kind_display().lower()} was issued here and retired under "
            f"the institution's retention rules on {retired.retired_at:%-d %B %Y}, when the "
            "period the institution keeps such records for ended.",
            certificate,
            retired,
        )
    if certificate.is_revoked:
        return CertificateCheck(
            False,
            f"This {certificate.get_kind_display().lower()} was revoked by the institution and "
            "is no longer valid.",
            certificate,
        )
    return CertificateCheck(
        True, f"A valid {certificate.get_kind_display().lower()} issued by us.", certificate
    )


def certificate_check_code(code: str) -> CertificateCheck:
    normalised = verification_code_normalise(code)
    certificate = (
        Certificate.objects.filter(verification_code=normalised).first() if normalised else None
    )
    if certificate is None:
        return CertificateCheck(
            False, "No certificate has this code. Check it against the document and try again."
        )
    return _found(certificate)


def certificate_check_pdf(data: bytes) -> CertificateCheck:
    """A PDF is one of our certificates when its seal is ours and intact over the whole file
    and the file is byte for byte the one issued."""
    seal = pdf_seal_check(data, certificates=certificates_for_verify())
    if not seal.ok:
        return CertificateCheck(False, seal.reason)
    from signing.documents import sha256_hex

    certificate = Certificate.objects.filter(sha256=sha256_hex(data)).first()
    if certificate is None:
        return CertificateCheck(
            False,
            "The file is sealed by this institution and unchanged, but it is not a certificate "
            "or statement of results issued here (a transcript or an agreement, perhaps).",
        )
    return _found(certificate)


def learner_has_course_results(enrollment: CohortEnrollment) -> bool:
    return CourseEnrollment.objects.filter(enrollment=enrollment).exists()


def certificates_to_retire(*, enrollments: QuerySet[CohortEnrollment]) -> QuerySet[Certificate]:
    """The certificates issued for `enrollments` not retired yet."""
    return (
        Certificate.objects.filter(enrollment__in=enrollments)
        .exclude(sha256__in=RetiredDocument.objects.values("sha256"))
        .order_by("pk")
    )
