"""Drafting invoices for the fees still owed: one draft per payer (and currency) with one line
per learner's fee left to invoice, naming the course enrolment it bills. A fee a draft already
covers, or that issued invoices have billed in full, is never drafted again; the enrolments
are locked while this is worked out, so two finance users pressing the button at once cannot
both draft the same fee."""

from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from delivery.models import CourseEnrollment
from finance.access import MANAGE_FINANCE
from finance.models import DocumentKind, Invoice
from finance.selectors.fees import fees_owed
from finance.selectors.settings import finance_settings_current
from finance.services.invoices import MAX_LINES, LineInput, lines_write

# Tuition is an educational service, exempt from VAT in South Africa (VAT Act, section 12(h)).
TUITION_VAT_APPLIES = False


def tuition_description(enrolment: CourseEnrollment) -> str:
    learner = enrolment.enrollment.learner
    return f"Tuition: {enrolment.course.name} {enrolment.course_run.title} — {learner.full_name}"


def fee_invoices_draft(
    *, actor: User | None, course_enrollment_ids: Iterable[int]
) -> list[Invoice]:
    """One draft invoice per payer for the fees of these course enrolments still left to
    invoice and not in a draft already; the drafts made (none when nothing was left)."""
    permission_check(actor=actor, action="fees.invoices_draft", permission=MANAGE_FINANCE)
    ids = sorted(set(course_enrollment_ids))
    if not ids:
        raise ValidationError("No fee is listed to invoice: change the filters.")
    settings = finance_settings_current()
    drafts: list[Invoice] = []
    with transaction.atomic(durable=True):
        list(CourseEnrollment.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        due: dict[tuple[str, str], list[CourseEnrollment]] = {}
        for enrolment in fees_owed(ids=ids):
            if enrolment.drafted > 0 or enrolment.left <= 0:  # type: ignore[attr-defined]
                continue
            due.setdefault((enrolment.payer_key, enrolment.fee_currency), []).append(  # type: ignore[attr-defined]
                enrolment
            )
        for (payer_key, currency), enrolments in due.items():
            for start in range(0, len(enrolments), MAX_LINES):
                part = enrolments[start : start + MAX_LINES]
                drafts.append(_draft(actor, payer_key, currency, part, settings.vat_rate))
    return drafts


def _draft(
    actor: User | None,
    payer_key: str,
    currency: str,
    enrolments: list[CourseEnrollment],
    vat_rate: Decimal,
) -> Invoice:
    first = enrolments[0]
    sponsor = first.course_run.cohort.sponsor if payer_key.startswith("sponsor-") else None
    invoice: Invoice = Invoice(
        kind=DocumentKind.INVOICE,
        currency=currency,
        vat_rate=vat_rate,
        created_by=actor,
        sponsor=sponsor,
        learner=None if sponsor else first.enrollment.learner,
    )
    invoice.save()
    lines = [
        LineInput(
            description=tuition_description(enrolment),
            unit_price=enrolment.left,  # type: ignore[attr-defined]
            vat_applies=TUITION_VAT_APPLIES,
            course_enrollment=enrolment,
        )
        for enrolment in enrolments
    ]
    lines_write(invoice, lines)
    invoice.save(update_fields=["subtotal", "vat_amount", "total"])
    audit_record(
        action="invoice.draft_created",
        entity=invoice,
        actor=actor,
        new_values={
            "total": str(invoice.total),
            "currency": currency,
            "lines": len(lines),
            "from": "fees owed",
        },
    )
    return invoice
