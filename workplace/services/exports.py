"""The learner's portfolio of evidence for one course run as one sealed PDF, for the quality
council or an external moderator: made by workplace.portfolio_pdf, sealed with the
institution's certificate as certificates and agreements are, stored under a random name with
its hash and kept (PortfolioExport), so that the copy handed out can be checked later."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from delivery.models import CourseEnrollment
from signing.documents import sha256_hex
from signing.sealing import pdf_seal
from signing.services.certificates import certificate_for_institution
from tenants.db import tenant_connection
from tenants.storage import file_store, files_removed_on_failure
from tenants.zones import institution_zone
from workplace.models import PortfolioExport
from workplace.portfolio_pdf import portfolio_pdf
from workplace.selectors.exports import export_allowed, portfolio_contents

STORAGE_FAILED_MESSAGE = "The PDF could not be stored. Nothing was produced; try again."


def portfolio_export_check(actor: User, course_enrollment: CourseEnrollment, action: str) -> None:
    """The audited refusal unless `actor` may produce this learner's portfolio as a PDF (see
    workplace.selectors.exports.export_allowed)."""
    permission_check(actor=actor, action=action, allowed=export_allowed(actor, course_enrollment))


def portfolio_export(*, actor: User, course_enrollment: CourseEnrollment) -> PortfolioExport:
    """Produce, seal and keep the learner's portfolio for the course run as one PDF. Refused
    (ValidationError) when its documents are more than one PDF may hold."""
    portfolio_export_check(actor, course_enrollment, "workplace.portfolio_export")
    institution = tenant_connection.tenant
    produced_on = timezone.localtime(timezone.now(), institution_zone()).date()
    rendered = portfolio_pdf(
        portfolio_contents(course_enrollment),
        institution=institution.name,
        produced_on=produced_on,
    )
    sealed = pdf_seal(
        rendered.pdf,
        certificate=certificate_for_institution(),
        reason=f"Portfolio of evidence {course_enrollment.course.code}",
    )
    export = PortfolioExport(
        course_enrollment=course_enrollment,
        sha256=sha256_hex(sealed),
        pages=rendered.pages,
        created_by=actor,
    )
    with files_removed_on_failure() as stored, transaction.atomic(durable=True):
        file_store(
            export.pdf,
            name="portfolio.pdf",
            content=sealed,
            failure_message=STORAGE_FAILED_MESSAGE,
            described_as=f"the portfolio export of course enrolment {course_enrollment.pk}",
        )
        stored.append(export.pdf)
        export.save()
        audit_record(
            actor=actor,
            action="workplace.portfolio_exported",
            entity=export,
            new_values={
                "course_enrollment": course_enrollment.pk,
                "sha256": export.sha256,
                "pages": export.pages,
            },
        )
    return export
