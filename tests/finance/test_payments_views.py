"""The payments, bank statement and report pages: finance records a payment (oldest invoices
first by default, or the amounts typed), uploads a statement and matches its lines; admins read
every page without its forms and buttons, and are refused the writes; students and other roles
get the audited 404, as does another institution's id. List pages' queries do not grow with
their rows."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from finance.models import (
    BankStatementImport,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    StatementLineStatus,
)
from finance.services.invoices import Recipient
from finance.services.statements import statement_import
from tests.factories import UserFactory
from tests.finance.support import finance_world
from tests.finance.support_payments import issued, received

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return finance_world(admin)


@pytest.fixture
def finance_client(client_of, world):
    return client_of(world.finance)


def statement(world, *rows: str, name: str = "march.csv") -> BankStatementImport:
    content = "\n".join(["Date,Description,Reference,Amount", *rows]).encode()
    return statement_import(actor=world.finance, content=content, file_name=name)


def test_finance_records_a_payment_settling_the_oldest_invoices_first(world, finance_client):
    older = issued(world, "1000.00", issued_on=timezone.localdate().replace(day=1))
    newer = issued(world, "2000.00")
    url = reverse("finance:payment_create")
    chooser = finance_client.get(url)
    assert chooser.status_code == 200
    assert world.sponsor.company_name in chooser.content.decode()

    party = f"?party=sponsor:{world.sponsor.pk}"
    page = finance_client.get(url + party)
    assert page.status_code == 200
    assert older.number in page.content.decode()
    response = finance_client.post(
        url + party,
        {
            "amount": "1500.00",
            "currency": "ZAR",
            "paid_on": timezone.localdate().isoformat(),
            "method": "eft",
            "reference": "UMOYA",
            "status": "completed",
        },
    )
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:payment", args=[payment.pk])
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.status == InvoiceStatus.PAID
    assert newer.status == InvoiceStatus.PARTIALLY_PAID
    assert newer.balance == Decimal("1500.00")
    detail = finance_client.get(response["Location"]).content.decode()
    assert "Refund…" in detail
    assert older.number in detail


def test_amounts_typed_per_invoice_are_kept_and_refusals_shown(world, finance_client):
    invoice = issued(world, "1000.00")
    url = reverse("finance:payment_create") + f"?party=sponsor:{world.sponsor.pk}"
    data = {
        "amount": "1500.00",
        "currency": "ZAR",
        "paid_on": timezone.localdate().isoformat(),
        "method": "eft",
        "status": "completed",
        f"invoice_{invoice.pk}": "1200.00",
    }
    refused = finance_client.post(url, data)
    assert refused.status_code == 400
    assert "still owes" in refused.content.decode()
    assert not Payment.objects.exists()
    data[f"invoice_{invoice.pk}"] = "600.00"
    assert finance_client.post(url, data).status_code == 302
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("600.00")
    # The sponsor's credit shows when the next payment is recorded.
    page = finance_client.get(url).content.decode()
    assert "unallocated from payment of" in page


def test_the_credit_is_allocated_later_from_the_payment_page(world, finance_client):
    payment = received(world, "500.00")
    invoice = issued(world, "800.00")
    page = finance_client.get(reverse("finance:payment", args=[payment.pk]))
    assert "Set the credit against an invoice" in page.content.decode()
    response = finance_client.post(
        reverse("finance:payment_allocate", args=[payment.pk]),
        {"invoice": str(invoice.pk), "amount": "500.00"},
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID


def test_pending_payment_completed_and_refund_confirmed(world, finance_client):
    payment = received(world, "100.00", status=PaymentStatus.PENDING)
    complete = reverse("finance:payment_complete", args=[payment.pk])
    assert "Mark the payment completed?" in finance_client.get(complete).content.decode()
    assert finance_client.post(complete).status_code == 302
    refund = reverse("finance:payment_refund", args=[payment.pk])
    assert finance_client.post(refund, {"refunded_on": "", "reason": ""}).status_code == 400
    response = finance_client.post(
        refund, {"refunded_on": timezone.localdate().isoformat(), "reason": "Overpaid"}
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    # Completing it again is refused with the reason on the page.
    again = finance_client.post(complete)
    assert again.status_code == 400
    assert "not pending" in again.content.decode()


def test_finance_uploads_a_statement_and_matches_a_line_by_hand(world, finance_client):
    invoice = issued(world, "4500.00")
    content = (
        "Date,Description,Reference,Amount\n"
        f"05/03/2027,EFT Umoya,{invoice.number},1000.00\n"
        "06/03/2027,Deposit,UMOYA,500.00\n"
        "07/03/2027,Fees,,-20.00\n"
    ).encode()
    response = finance_client.post(
        reverse("finance:statement_upload"),
        {"file": SimpleUploadedFile("march.csv", content, content_type="text/csv")},
    )
    statement_row = BankStatementImport.objects.get()
    assert response.status_code == 302
    page = finance_client.get(response["Location"]).content.decode()
    assert "Needs a person (1)" in page
    line = statement_row.lines.get(status=StatementLineStatus.UNMATCHED)
    matched = finance_client.post(
        reverse("finance:statement_line_match", args=[statement_row.pk, line.pk]),
        {f"match-{line.pk}-invoice": str(invoice.pk)},
    )
    assert matched.status_code == 302
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("1500.00")
    duplicate = finance_client.post(
        reverse("finance:statement_upload"),
        {"file": SimpleUploadedFile("again.csv", content, content_type="text/csv")},
    )
    assert duplicate.status_code == 400
    assert "already imported" in duplicate.content.decode()


def test_a_bad_statement_shows_its_rows_errors(world, finance_client):
    response = finance_client.post(
        reverse("finance:statement_upload"),
        {
            "file": SimpleUploadedFile(
                "bad.csv", b"Date,Description,Reference,Amount\n2027-13-01,x,,5\n"
            )
        },
    )
    assert response.status_code == 400
    assert "Row 2: the date" in response.content.decode()
    assert not BankStatementImport.objects.exists()


def test_a_line_is_set_aside_and_a_missing_reason_refused(world, finance_client):
    row = statement(world, "2027-03-05,Interest,,1.00")
    line = row.lines.get()
    url = reverse("finance:statement_line_ignore", args=[row.pk, line.pk])
    assert finance_client.post(url, {f"ignore-{line.pk}-reason": ""}).status_code == 400
    assert finance_client.post(url, {f"ignore-{line.pk}-reason": "Interest"}).status_code == 302
    line.refresh_from_db()
    assert line.status == StatementLineStatus.IGNORED


def test_admins_read_every_page_without_its_forms(world, admin_client):
    invoice = issued(world, "1000.00")
    payment = received(world, "1500.00", [(invoice, "600.00")])
    row = statement(world, "2027-03-05,Deposit,UMOYA,10.00")
    pages = {
        reverse("finance:payments"): "Record a payment",
        reverse("finance:payment", args=[payment.pk]): "Refund…",
        reverse("finance:statement_imports"): "Import a statement",
        reverse("finance:statement_import", args=[row.pk]): "Why set it aside",
        reverse("finance:aged_debtors"): None,
        reverse("finance:aged_debtor", args=["sponsor", world.sponsor.pk]): None,
        reverse("finance:income"): None,
    }
    for url, hidden in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        if hidden:
            assert hidden not in response.content.decode(), url
    writes = [
        reverse("finance:payment_create"),
        reverse("finance:statement_upload"),
        reverse("finance:payment_refund", args=[payment.pk]),
    ]
    for url in writes:
        assert admin_client.get(url).status_code == 404, url
    allocate = admin_client.post(
        reverse("finance:payment_allocate", args=[payment.pk]),
        {"invoice": str(invoice.pk), "amount": "1.00"},
    )
    assert allocate.status_code == 404


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.TRAINER, SystemRole.AGENT])
def test_other_roles_get_the_audited_404(world, client_of, role):
    payment = received(world, "10.00")
    person = client_of(UserFactory(roles=[role]))
    for url in (
        reverse("finance:payments"),
        reverse("finance:payment", args=[payment.pk]),
        reverse("finance:statement_imports"),
        reverse("finance:aged_debtors"),
        reverse("finance:income"),
    ):
        assert person.get(url).status_code == 404, url


def test_another_institutions_ids_are_not_found(
    world, finance_client, institution, other_institution
):
    connection.set_tenant(institution)  # other_institution left it on the public schema
    statement(world, "2027-03-05,Interest,,1.00")
    connection.set_tenant(other_institution)
    try:
        elsewhere = finance_world(UserFactory(roles=[SystemRole.ADMIN]))
        for _ in range(3):
            foreign_payment = received(elsewhere, "20.00")
        for number in range(3):
            foreign = statement(elsewhere, f"2027-03-05,Other,,{number + 2}.00", name=f"{number}")
        foreign_line = foreign.lines.get()
    finally:
        connection.set_tenant(institution)
    assert not Payment.objects.filter(pk=foreign_payment.pk).exists()
    assert not BankStatementImport.objects.filter(pk=foreign.pk).exists()
    for url in (
        reverse("finance:payment", args=[foreign_payment.pk]),
        reverse("finance:payment_refund", args=[foreign_payment.pk]),
        reverse("finance:statement_import", args=[foreign.pk]),
    ):
        assert finance_client.get(url).status_code == 404, url
    ignore = reverse("finance:statement_line_ignore", args=[foreign.pk, foreign_line.pk])
    assert finance_client.post(ignore, {f"ignore-{foreign_line.pk}-reason": "x"}).status_code == 404


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def _list_page_queries(world, client) -> dict[str, int]:
    last = BankStatementImport.objects.order_by("-pk").first()
    urls = [
        reverse("finance:payments"),
        reverse("finance:statement_imports"),
        reverse("finance:statement_import", args=[last.pk]),
        reverse("finance:aged_debtors"),
        reverse("finance:aged_debtor", args=["sponsor", world.sponsor.pk]),
        reverse("finance:income"),
    ]
    queries(client, urls[0])  # the session and the institution's settings are cached
    return {url.split("/")[2]: queries(client, url) for url in urls}


def _rows_add(world, count: int) -> None:
    learners = world.learners_add(count)
    for number, placed in enumerate(learners):
        invoice = issued(world, "100.00")
        received(world, "150.00", [(invoice, "50.00")])
        issued(world, "70.00", recipient=Recipient(learner=placed.learner))
        statement(
            world,
            *(f"2027-03-05,Deposit {number} {line},X{number},1{line}.00" for line in range(3)),
            f"2027-03-06,EFT,{invoice.number},10.00",
            name=f"{number}.csv",
        )


def test_list_pages_read_the_same_queries_for_one_row_and_eight(world, finance_client):
    _rows_add(world, 1)
    few = _list_page_queries(world, finance_client)
    _rows_add(world, 7)
    many = _list_page_queries(world, finance_client)
    assert few == many
