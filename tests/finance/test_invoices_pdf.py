"""After issue, a task renders the invoice's PDF in the institution's branding, seals it with the
institution's certificate, stores it and e-mails it to the recipient, once; a resend e-mails it
again; the page offers it only through a view that checks finance.view_finance."""

import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from audit.models import AuditEvent
from finance.models import Invoice
from finance.services.credit_notes import credit_note_draft_create
from finance.services.invoices import (
    LineInput,
    Recipient,
    invoice_draft_create,
    invoice_issue,
    invoice_resend,
    invoice_void,
)
from finance.tasks.invoices import invoice_pdf_send
from signing.models import InstitutionCertificate
from signing.sealing import pdf_seal_check
from tests.finance.support import finance_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin, media):
    return finance_world(admin)


def issued(world, django_capture_on_commit_callbacks, **recipient) -> Invoice:
    draft = invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(**(recipient or {"sponsor": world.sponsor})),
        lines=[LineInput(description="Tuition <b>Q1</b>", unit_price=Decimal("4500.00"))],
    )
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_issue(actor=world.finance, invoice=draft)
    invoice.refresh_from_db()
    return invoice


def pdf_text(invoice: Invoice) -> str:
    with invoice.pdf.open("rb") as stored:
        return "\n".join(page.extract_text() for page in PdfReader(stored).pages)


def test_issuing_renders_seals_stores_and_emails_the_pdf(
    world, eager, django_capture_on_commit_callbacks
):
    invoice = issued(world, django_capture_on_commit_callbacks)
    assert invoice.pdf.name.endswith(".pdf")
    with invoice.pdf.open("rb") as stored:
        data = stored.read()
    check = pdf_seal_check(data, certificates=list(InstitutionCertificate.objects.all()))
    assert check.ok, check.reason
    text = pdf_text(invoice)
    assert invoice.number in text
    assert "Umoya Mining (Pty) Ltd" in text
    assert "Tuition <b>Q1</b>" in text  # escaped, printed as typed
    assert "R5 175,00" in text.replace("\xa0", " ")
    assert invoice.emailed_at is not None
    (message,) = [m for m in mail.outbox if invoice.number in m.subject]
    assert message.to == ["thandi@umoya.example"]
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content == data
    assert AuditEvent.objects.filter(action="invoice.pdf_rendered").count() == 1
    emailed = AuditEvent.objects.get(action="invoice.emailed")
    assert emailed.new_values == {"emailed": True}
    assert "umoya.example" not in str(emailed.new_values)


def test_the_task_is_idempotent(world, eager, django_capture_on_commit_callbacks):
    invoice = issued(world, django_capture_on_commit_callbacks)
    first = invoice.pdf.name
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_pdf_send(invoice.pk) == {"rendered": False, "emailed": False}
    invoice.refresh_from_db()
    assert invoice.pdf.name == first
    assert len(mail.outbox) == sent


def test_a_draft_gets_no_pdf(world):
    draft = invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(sponsor=world.sponsor),
        lines=[LineInput(description="Tuition", unit_price=Decimal("1.00"))],
    )
    assert invoice_pdf_send(draft.pk) == {"rendered": False, "emailed": False}
    draft.refresh_from_db()
    assert not draft.pdf


def test_a_credit_note_pdf_names_the_invoice_it_credits(
    world, eager, django_capture_on_commit_callbacks
):
    invoice = issued(world, django_capture_on_commit_callbacks)
    note = credit_note_draft_create(actor=world.finance, invoice=invoice)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_issue(actor=world.finance, invoice=note)
    note.refresh_from_db()
    text = pdf_text(note)
    assert "CREDIT NOTE" in text
    assert invoice.number in text
    assert any(note.number in m.subject for m in mail.outbox)


def test_a_recipient_without_an_address_gets_no_email(
    world, eager, django_capture_on_commit_callbacks
):
    learner = world.learner.learner
    learner.email = ""
    learner.save(update_fields=["email"])
    invoice = issued(world, django_capture_on_commit_callbacks, learner=learner)
    assert invoice.pdf
    assert invoice.emailed_at is None
    with pytest.raises(ValidationError, match="has no e-mail address"):
        invoice_resend(actor=world.finance, invoice=invoice)
    reason = AuditEvent.objects.get(action="invoice.resend.refused").new_values["reason"]
    assert learner.first_name not in reason
    assert learner.last_name not in reason


def test_resending_emails_the_pdf_again(world, eager, django_capture_on_commit_callbacks):
    invoice = issued(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_resend(actor=world.finance, invoice=invoice)
    assert len([m for m in mail.outbox if invoice.number in m.subject]) == 2
    again = AuditEvent.objects.get(action="invoice.emailed", actor=world.finance)
    assert again.new_values == {"emailed": True, "again": True}


def test_an_invoice_voided_before_its_task_runs_is_not_emailed(world, eager):
    draft = invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(sponsor=world.sponsor),
        lines=[LineInput(description="Tuition", unit_price=Decimal("1.00"))],
    )
    invoice = invoice_issue(actor=world.finance, invoice=draft)  # its task has not run yet
    invoice_void(actor=world.finance, invoice=invoice, reason="Issued to the wrong sponsor.")
    assert invoice_pdf_send(invoice.pk)["emailed"] is False
    invoice.refresh_from_db()
    assert invoice.emailed_at is None
    assert not [m for m in mail.outbox if invoice.number in m.subject]


def test_resending_before_the_pdf_is_made_is_refused(world):
    draft = invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(sponsor=world.sponsor),
        lines=[LineInput(description="Tuition", unit_price=Decimal("1.00"))],
    )
    invoice = invoice_issue(actor=world.finance, invoice=draft)  # its task never ran
    with pytest.raises(ValidationError, match="still being made"):
        invoice_resend(actor=world.finance, invoice=invoice)


def test_the_pdf_carries_the_institutions_details(
    world, eager, django_capture_on_commit_callbacks, institution
):
    from finance.models import FinanceSettings

    FinanceSettings.objects.create(
        pk=1, vat_number="4999999999", payment_details="First Bank, account 123"
    )
    institution.registration_number = "2019/123456/07"
    institution.save(update_fields=["registration_number"])
    invoice = issued(world, django_capture_on_commit_callbacks)
    text = pdf_text(invoice)
    assert "Tax invoice" in text or "TAX INVOICE" in text
    assert "4999999999" in text
    assert "2019/123456/07" in text
    assert "First Bank, account 123" in text
    assert institution.name in text
    assert len(PdfReader(io.BytesIO(invoice.pdf.open("rb").read())).pages) == 1
