"""A partner's monthly commission statements: the balance carried from month to month (opening,
earned, paid, closing), the due date by the partner's terms, the sealed PDF, and who reads
them: finance and admins every partner's, a partner's contact only their own."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import SystemRole
from audit.models import AuditEvent
from finance.models import Commission, CommissionStatus
from finance.selectors.commissions import partner_statement, statement_months
from finance.services.commissions import commissions_pay
from partners.models import PartnerContact, PaymentMethod
from signing.models import InstitutionCertificate
from signing.sealing import pdf_seal_check
from tests.factories import UserFactory
from tests.finance.support import Finance, finance_world
from tests.finance.test_commissions import confirmed_again

pytestmark = pytest.mark.django_db

FEBRUARY = datetime.date(2027, 2, 1)
MARCH = datetime.date(2027, 3, 1)
APRIL = datetime.date(2027, 4, 1)


def commissions_on(world: Finance, *days: datetime.date) -> list[Commission]:
    """The broker's R750 commissions, one per new placed learner, accrued on `days`."""
    made = []
    for placed, day in zip(world.learners_add(len(days)), days, strict=True):
        confirmed_again(placed.placement, world.admin)
        commission = Commission.objects.get(partner=world.broker, placement=placed.placement)
        Commission.objects.filter(pk=commission.pk).update(accrued_on=day)
        commission.refresh_from_db()
        made.append(commission)
    return made


@pytest.fixture
def world(admin) -> Finance:
    """Three commissions in February (one of them later cancelled), one in March; the two
    owed from February paid on 10 March."""
    world = finance_world(admin, learners=0)
    world.broker.payment_terms_days = 15
    world.broker.save(update_fields=["payment_terms_days"])
    feb = commissions_on(world, datetime.date(2027, 2, 3), datetime.date(2027, 2, 20), FEBRUARY)
    commissions_on(world, datetime.date(2027, 3, 28))
    Commission.objects.filter(pk=feb[2].pk).update(status=CommissionStatus.CANCELLED)
    commissions_pay(
        actor=world.finance,
        partner=world.broker,
        commission_ids=[feb[0].pk, feb[1].pk],
        method=PaymentMethod.CASH,
        paid_on=datetime.date(2027, 3, 10),
        reference="FEB-PAYOUT",
    )
    return world


def test_the_balance_carries_from_month_to_month(world):
    february = partner_statement(world.broker, FEBRUARY)
    assert february.opening == Decimal("0.00")
    assert february.accrued == Decimal("1500.00")  # the cancelled one was never owed
    assert len(february.commissions) == 2
    assert february.paid == Decimal("0.00")
    assert february.closing == Decimal("1500.00")
    assert february.due_on == datetime.date(2027, 3, 15)  # 28 February + 15 days

    march = partner_statement(world.broker, datetime.date(2027, 3, 17))
    assert march.month == MARCH
    assert march.opening == Decimal("1500.00")
    assert march.accrued == Decimal("750.00")
    assert march.paid == Decimal("1500.00")
    assert [p.reference for p in march.payouts] == ["FEB-PAYOUT"]
    assert march.payouts[0].commission_count == 2
    assert march.closing == Decimal("750.00")
    assert march.due_on == datetime.date(2027, 4, 15)

    april = partner_statement(world.broker, APRIL)
    assert (april.opening, april.accrued, april.paid, april.closing) == (
        Decimal("750.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("750.00"),
    )


def test_the_months_with_activity_latest_first_with_their_closing_balances(world):
    months = statement_months(world.broker)
    assert [(m.month, m.accrued, m.paid, m.closing) for m in months] == [
        (MARCH, Decimal("750.00"), Decimal("1500.00"), Decimal("750.00")),
        (FEBRUARY, Decimal("1500.00"), Decimal("0.00"), Decimal("1500.00")),
    ]
    assert statement_months(world.agent) == []


def statement_url(world: Finance, month: datetime.date = MARCH, *, pdf: bool = False) -> str:
    name = "finance:partner_statement_pdf" if pdf else "finance:partner_statement"
    return reverse(name, args=[world.broker.pk, month.year, month.month])


def test_finance_reads_a_statement_and_may_pay_from_it(world, client_of):
    response = client_of(world.finance).get(statement_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Commission statement March 2027 · Bridge Placements · " in html
    assert "Due by <strong" in html
    assert "15 April 2027" in html
    assert "FEB-PAYOUT" in html
    assert "R1\xa0500,00" in html
    assert "R750,00" in html
    assert reverse("finance:commissions_pay", args=[world.broker.pk]) in html
    assert statement_url(world, pdf=True) in html


def test_admins_read_statements_without_paying(world, client_of):
    client = client_of(world.admin)
    html = client.get(statement_url(world)).content.decode()
    assert "FEB-PAYOUT" in html
    assert reverse("finance:commissions_pay", args=[world.broker.pk]) not in html
    months = client.get(reverse("finance:partner_statements", args=[world.broker.pk]))
    assert months.status_code == 200
    assert "Pay commissions" not in months.content.decode()


def test_the_months_page_links_each_statement(world, client_of):
    response = client_of(world.finance).get(
        reverse("finance:partner_statements", args=[world.broker.pk])
    )
    html = response.content.decode()
    assert statement_url(world, FEBRUARY) in html
    assert statement_url(world, MARCH) in html
    assert "Pay commissions" in html


def test_a_month_that_does_not_exist_is_not_found(world, client_of):
    client = client_of(world.finance)
    for year, month in ((2027, 13), (2027, 0)):
        url = reverse("finance:partner_statement", args=[world.broker.pk, year, month])
        assert client.get(url).status_code == 404


def test_the_pdf_is_sealed_and_says_what_the_page_says(world, client_of):
    response = client_of(world.finance).get(statement_url(world, pdf=True))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="commission-statement-BR-001-2027-03.pdf"'
    )
    pdf = response.content
    certificates = list(InstitutionCertificate.objects.all())
    assert pdf_seal_check(pdf, certificates=certificates).ok
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    for words in (
        "Commission statement",
        "Bridge Placements (BR-001)",
        "Owed at the start of the month",
        "FEB-PAYOUT",
        "15 April 2027",
        "per placement confirmed",
    ):
        assert words in text, words
    [event] = AuditEvent.objects.filter(action="commission.statement_produced")
    assert event.actor == world.finance
    assert event.new_values["month"] == "2027-03"
    assert event.new_values["closing"] == "750.00"


def test_a_changed_pdf_breaks_the_seal(world, client_of):
    pdf = client_of(world.finance).get(statement_url(world, pdf=True)).content
    index = len(pdf) // 3  # inside the page's bytes, which the seal covers
    tampered = pdf[:index] + bytes([pdf[index] ^ 1]) + pdf[index + 1 :]
    certificates = list(InstitutionCertificate.objects.all())
    assert not pdf_seal_check(tampered, certificates=certificates).ok


# --- The partner's contact -------------------------------------------------------------------


def contact_of(partner, role: str = SystemRole.BROKER):
    user = UserFactory(roles=[role], full_name="Bongani Broker")
    PartnerContact.objects.create(partner=partner, user=user)
    return user


def test_a_contact_reads_their_own_partners_statements(world, client_of):
    client = client_of(contact_of(world.broker))
    mine = client.get(reverse("finance:my_statements"))
    assert mine.status_code == 200
    html = mine.content.decode()
    assert '<h1 class="h3 mb-1">Commission statements</h1>' in html
    assert statement_url(world, MARCH) in html
    assert reverse("finance:commissions") not in html

    statement = client.get(statement_url(world))
    assert statement.status_code == 200
    html = statement.content.decode()
    assert "FEB-PAYOUT" in html
    assert reverse("finance:commissions_pay", args=[world.broker.pk]) not in html
    assert reverse("finance:my_statements") in html
    assert client.get(statement_url(world, pdf=True)).status_code == 200
    months = client.get(reverse("finance:partner_statements", args=[world.broker.pk]))
    assert months.status_code == 200


def test_a_contact_gets_the_404_on_another_partners_statements(world, client_of):
    client = client_of(contact_of(world.agent, SystemRole.AGENT))
    for url in (
        reverse("finance:partner_statements", args=[world.broker.pk]),
        statement_url(world),
        statement_url(world, pdf=True),
        reverse("finance:commissions"),
    ):
        assert client.get(url).status_code == 404, url
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="view:finance.partner_statement"
    ).exists()
    assert not AuditEvent.objects.filter(action="commission.statement_produced").exists()
    # Their own list is there, and empty.
    own = client.get(reverse("finance:my_statements"))
    assert own.status_code == 200
    assert "No statements yet" in own.content.decode()


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.ASSESSOR, SystemRole.BROKER])
def test_people_who_speak_for_no_partner_get_the_404(world, client_of, role):
    client = client_of(UserFactory(roles=[role]))
    assert client.get(reverse("finance:my_statements")).status_code == 404
    assert client.get(statement_url(world)).status_code == 404
    assert client.get(statement_url(world, pdf=True)).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(world, client_for, institution):
    response = client_for(institution).get(statement_url(world))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url
