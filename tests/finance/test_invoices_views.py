"""The invoice pages: finance drafts, edits, issues, credits, voids and deletes through them;
admins see the same pages without a button or form; everyone else, and another institution's
ids, get the 404. The list's queries do not grow with its rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from finance.models import DocumentKind, Invoice, InvoiceStatus
from finance.services.invoices import LineInput, Recipient, invoice_draft_create, invoice_issue
from sponsors.models import Sponsor
from tests.finance.support import finance_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return finance_world(admin)


def draft_of(world, total: str = "1000.00") -> Invoice:
    return invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(sponsor=world.sponsor),
        lines=[LineInput(description="Tuition", unit_price=Decimal(total))],
    )


def lines_data(*rows: tuple[str, str, str, bool], initial: int = 0) -> dict[str, str]:
    data = {
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    }
    for index, (description, quantity, price, vat) in enumerate(rows):
        data |= {
            f"lines-{index}-description": description,
            f"lines-{index}-quantity": quantity,
            f"lines-{index}-unit_price": price,
        }
        if vat:
            data[f"lines-{index}-vat_applies"] = "on"
    return data


def test_finance_drafts_an_invoice_with_lines(world, client_of):
    client = client_of(world.finance)
    assert client.get(reverse("finance:invoice_create")).status_code == 200
    response = client.post(
        reverse("finance:invoice_create"),
        {
            "recipient": f"sponsor-{world.sponsor.pk}",
            "reference": "PO-1",
            "notes": "",
            **lines_data(
                ("Tuition", "2", "1000.00", True),
                ("Books", "1", "150.00", False),
                ("", "1", "", True),
            ),
        },
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:invoice", args=[invoice.pk])
    assert invoice.total == Decimal("2450.00")
    assert invoice.lines.count() == 2


def test_a_bad_line_is_shown_beside_its_field(world, client_of):
    response = client_of(world.finance).post(
        reverse("finance:invoice_create"),
        {
            "recipient": f"sponsor-{world.sponsor.pk}",
            **lines_data(("Tuition", "1", "-5", True), ("Books", "1", "1.005", True)),
        },
    )
    assert response.status_code == 400
    assert "Give a price of 0 or more." in response.content.decode()
    assert "Give the price in whole cents." in response.content.decode()
    assert not Invoice.objects.exists()


def test_more_lines_keeps_what_was_typed(world, client_of):
    response = client_of(world.finance).post(
        reverse("finance:invoice_create"),
        {"recipient": "", "more": "1", **lines_data(("Tuition", "1", "10.00", True))},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Tuition"' in page
    assert 'name="lines-TOTAL_FORMS" value="4"' in page
    assert not Invoice.objects.exists()


def test_finance_edits_a_draft_and_removes_a_line(world, client_of):
    invoice = draft_of(world)
    client = client_of(world.finance)
    assert client.get(reverse("finance:invoice_edit", args=[invoice.pk])).status_code == 200
    data = lines_data(("Tuition", "1", "1000.00", True), ("Extra", "1", "5.00", True), initial=1)
    data["lines-0-DELETE"] = "on"
    response = client.post(
        reverse("finance:invoice_edit", args=[invoice.pk]),
        {"recipient": f"partner-{world.agent.pk}", "reference": "", "notes": "", **data},
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.partner_id == world.agent.pk
    assert [line.description for line in invoice.lines.all()] == ["Extra"]


def test_the_edit_page_of_an_issued_invoice_refuses_with_a_message(world, client_of):
    invoice = invoice_issue(actor=world.finance, invoice=draft_of(world))
    url = reverse("finance:invoice_edit", args=[invoice.pk])
    client = client_of(world.finance)
    response = client.get(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("finance:invoice", args=[invoice.pk])
    assert "can no longer be changed: credit it with a credit note" in response.content.decode()
    # Looking writes nothing (a GET may come from anywhere); a change is refused and audited.
    refusals = AuditEvent.objects.filter(action="invoice.edit.refused", entity_id=str(invoice.pk))
    assert not refusals.exists()
    posted = client.post(url, lines_data(("More", "1", "5.00", True)), follow=True)
    assert "can no longer be changed: credit it with a credit note" in posted.content.decode()
    assert refusals.count() == 1
    invoice.refresh_from_db()
    assert invoice.total == Decimal("1150.00")


def test_e_mailing_an_invoice_again_is_rate_limited(world, client_of):
    invoice = invoice_issue(actor=world.finance, invoice=draft_of(world))  # no PDF yet
    url = reverse("finance:invoice_resend", args=[invoice.pk])
    client = client_of(world.finance)
    for _ in range(10):
        assert client.post(url).status_code == 302
    limited = client.post(url)
    assert limited.status_code == 429
    assert "e-mailed invoices again many times in the last hour" in limited.content.decode()
    assert invoice.number in limited.content.decode()
    refused = AuditEvent.objects.filter(action="invoice.resend.refused", entity_id=str(invoice.pk))
    assert refused.count() == 10


def test_issuing_goes_through_a_confirmation(world, client_of):
    invoice = draft_of(world)
    client = client_of(world.finance)
    page = client.get(reverse("finance:invoice_issue", args=[invoice.pk]))
    assert "It can no longer be edited" in page.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT
    response = client.post(reverse("finance:invoice_issue", args=[invoice.pk]), follow=True)
    invoice.refresh_from_db()
    assert invoice.number.startswith("INV-")
    page = response.content.decode()
    assert invoice.number in page
    assert "Edit draft" not in page
    assert "PDF rendering" in page


def test_crediting_part_of_an_invoice_through_the_page(world, client_of):
    invoice = invoice_issue(actor=world.finance, invoice=draft_of(world))
    line = invoice.lines.get()
    client = client_of(world.finance)
    assert client.get(reverse("finance:invoice_credit", args=[invoice.pk])).status_code == 200
    too_many = client.post(
        reverse("finance:invoice_credit", args=[invoice.pk]),
        {f"line-{line.pk}-include": "on", f"line-{line.pk}-quantity": "2"},
    )
    assert too_many.status_code == 400
    assert "At most 1, the quantity invoiced." in too_many.content.decode()
    response = client.post(
        reverse("finance:invoice_credit", args=[invoice.pk]),
        {f"line-{line.pk}-include": "on", f"line-{line.pk}-quantity": "0.5", "notes": "Withdrew"},
    )
    note = Invoice.objects.get(kind=DocumentKind.CREDIT_NOTE)
    assert response["Location"] == reverse("finance:invoice", args=[note.pk])
    assert note.total == Decimal("575.00")
    client.post(reverse("finance:invoice_issue", args=[note.pk]))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert invoice.amount_credited == Decimal("575.00")


def test_voiding_needs_a_reason_and_a_confirmation(world, client_of):
    invoice = invoice_issue(actor=world.finance, invoice=draft_of(world))
    client = client_of(world.finance)
    assert client.get(reverse("finance:invoice_void", args=[invoice.pk])).status_code == 200
    empty = client.post(reverse("finance:invoice_void", args=[invoice.pk]), {"reason": ""})
    assert empty.status_code == 400
    client.post(reverse("finance:invoice_void", args=[invoice.pk]), {"reason": "Duplicate"})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID


def test_deleting_a_draft_goes_through_a_confirmation(world, client_of):
    invoice = draft_of(world)
    client = client_of(world.finance)
    assert client.get(reverse("finance:invoice_delete", args=[invoice.pk])).status_code == 200
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    response = client.post(reverse("finance:invoice_delete", args=[invoice.pk]))
    assert response["Location"] == reverse("finance:invoices")
    assert not Invoice.objects.filter(pk=invoice.pk).exists()


def test_admins_see_invoices_read_only(world, client_of):
    draft = draft_of(world)
    issued = invoice_issue(actor=world.finance, invoice=draft_of(world))
    client = client_of(world.admin)
    listing = client.get(reverse("finance:invoices")).content.decode()
    assert issued.number in listing
    assert "Draft an invoice" not in listing
    for invoice in (draft, issued):
        page = client.get(reverse("finance:invoice", args=[invoice.pk])).content.decode()
        for button in (
            "Edit draft",
            "Issue…",
            "Credit…",
            "Void…",
            "Delete draft…",
            "E-mail again",
            "Record a payment…",
        ):
            assert button not in page
    for name in ("invoice_create",):
        assert client.get(reverse(f"finance:{name}")).status_code == 404
    for name in ("invoice_edit", "invoice_issue", "invoice_delete"):
        assert client.post(reverse(f"finance:{name}", args=[draft.pk])).status_code == 404
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT


def test_students_and_other_roles_get_a_404(world, client_of):
    invoice = draft_of(world)
    for user in (world.learner.user, world.workplace.mentor):
        client = client_of(user)
        assert client.get(reverse("finance:invoices")).status_code == 404
        assert client.get(reverse("finance:invoice", args=[invoice.pk])).status_code == 404
        assert client.get(reverse("finance:invoice_pdf", args=[invoice.pk])).status_code == 404


def test_another_institutions_invoice_is_not_there(
    world, client_of, other_institution, institution
):
    with tenant_context(other_institution):
        sponsor = Sponsor.objects.create(
            company_name="Beta Sponsor", contact_name="B", contact_email="b@beta.example"
        )
        foreign = Invoice.objects.create(pk=987654, sponsor=sponsor, total=Decimal(1))
    connection.set_tenant(institution)
    client = client_of(world.finance)
    for name in ("invoice", "invoice_edit", "invoice_issue", "invoice_pdf", "invoice_credit"):
        assert client.get(reverse(f"finance:{name}", args=[foreign.pk])).status_code == 404


def test_the_pdf_is_404_until_it_is_made(world, client_of):
    invoice = invoice_issue(actor=world.finance, invoice=draft_of(world))
    assert (
        client_of(world.finance).get(reverse("finance:invoice_pdf", args=[invoice.pk])).status_code
        == 404
    )


def test_the_list_filters_and_searches(world, client_of):
    draft = draft_of(world)
    issued = invoice_issue(actor=world.finance, invoice=draft_of(world))
    client = client_of(world.finance)
    drafts = client.get(reverse("finance:invoices"), {"status": "draft"}).content.decode()
    assert f'data-invoice="{draft.pk}"' in drafts
    assert f'data-invoice="{issued.pk}"' not in drafts
    found = client.get(reverse("finance:invoices"), {"q": issued.number}).content.decode()
    assert f'data-invoice="{issued.pk}"' in found
    assert f'data-invoice="{draft.pk}"' not in found
    learners = client.get(reverse("finance:invoices"), {"recipient_type": "learner"}).content
    assert b"No invoice matches these filters." in learners
    assert (
        b"R1 150,00".replace(b" ", "\xa0".encode())
        in client.get(reverse("finance:invoices")).content
    )


def test_the_lists_queries_do_not_grow_with_its_rows(world, client_of, django_assert_num_queries):
    client = client_of(world.finance)
    invoice_issue(actor=world.finance, invoice=draft_of(world))
    draft_of(world)
    client.get(reverse("finance:invoices"))
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("finance:invoices")).status_code == 200
    for _ in range(12):
        invoice_issue(actor=world.finance, invoice=draft_of(world))
    learner = world.learner.learner
    for _ in range(6):
        invoice_draft_create(
            actor=world.finance,
            recipient=Recipient(learner=learner),
            lines=[LineInput(description="Books", unit_price=Decimal("1.00"))],
        )
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(reverse("finance:invoices")).status_code == 200


def test_the_fees_page_lists_and_drafts(world, client_of, django_assert_num_queries):
    client = client_of(world.finance)
    page = client.get(reverse("finance:fees_owed"))
    assert page.status_code == 200
    assert "Umoya Mining (Pty) Ltd" in page.content.decode()
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("finance:fees_owed"))
    world.learners_add(5)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("finance:fees_owed"))
    assert (
        b"Draft invoices for these"
        not in client_of(world.admin).get(reverse("finance:fees_owed")).content
    )
    assert client_of(world.admin).post(reverse("finance:fees_invoices_draft")).status_code == 404
    response = client.post(reverse("finance:fees_invoices_draft"))
    assert response.status_code == 302
    (draft,) = Invoice.objects.all()
    assert draft.lines.count() == 6
    assert client_of(world.learner.user).get(reverse("finance:fees_owed")).status_code == 404


def test_an_issued_invoice_offers_its_payment_and_reads_its_history(world, client_of):
    issued = invoice_issue(actor=world.finance, invoice=draft_of(world))
    page = client_of(world.finance).get(reverse("finance:invoice", args=[issued.pk]))
    text = page.content.decode()
    assert f'?party=sponsor:{world.sponsor.pk}">Record a payment…' in text
    assert "Draft created" in text
    assert "Issued" in text
    assert "invoice.issued" not in text
