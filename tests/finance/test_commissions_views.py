"""The commissions pages: the list with its filters and the commissions-owed report, cancelling
a commission and paying a partner, each behind a page that says what will happen. Finance
changes; admins read; anyone else, and another institution's ids, get the 404."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from finance.models import Commission, CommissionStatus, Payment
from partners.models import PartnerContact, PaymentMethod
from tests.factories import UserFactory
from tests.finance.support import Finance, finance_world, partner_make
from tests.finance.test_commissions import bank_account_for, confirmed_again

pytestmark = pytest.mark.django_db

LIST = reverse("finance:commissions")


def accrue(world: Finance, count: int) -> list[Commission]:
    """`count` more of the broker's commissions, one per new placed learner."""
    for placed in world.learners_add(count):
        confirmed_again(placed.placement, world.admin)
    return list(Commission.objects.filter(partner=world.broker).order_by("pk"))


@pytest.fixture
def world(admin) -> Finance:
    world = finance_world(admin, learners=0)
    accrue(world, 2)
    return world


def pay_url(world: Finance) -> str:
    return reverse("finance:commissions_pay", args=[world.broker.pk])


def test_finance_sees_the_commissions_and_what_is_owed_per_partner(world, client_of):
    response = client_of(world.finance).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Commissions · " in html
    assert html.count('data-commission="') == 2
    owed = response.context["owed"]
    assert [(row.partner, row.amount, row.count) for row in owed] == [
        (world.broker, Decimal("1500.00"), 2)
    ]
    assert "R1\xa0500,00" in html
    assert pay_url(world) in html
    assert reverse("finance:commission_cancel", args=[world_first(world).pk]) in html


def world_first(world: Finance) -> Commission:
    return Commission.objects.filter(partner=world.broker).order_by("pk").first()


def test_admins_read_the_list_without_the_buttons(world, client_of):
    response = client_of(world.admin).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-commission="') == 2
    assert pay_url(world) not in html
    assert "/cancel/" not in html


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.BROKER, SystemRole.ASSESSOR])
def test_others_get_the_404_on_every_commissions_page(world, client_of, role):
    person = UserFactory(roles=[role])
    if role == SystemRole.BROKER:
        PartnerContact.objects.create(partner=world.broker, user=person)
    client = client_of(person)
    for url in (
        LIST,
        pay_url(world),
        reverse("finance:commission_cancel", args=[world_first(world).pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(pay_url(world), {"commissions": [world_first(world).pk]}).status_code == 404
    assert not Payment.objects.exists()


def test_admins_get_the_404_on_the_pages_that_change(world, client_of):
    client = client_of(world.admin)
    assert client.get(pay_url(world)).status_code == 404
    cancel = reverse("finance:commission_cancel", args=[world_first(world).pk])
    assert client.post(cancel, {"reason": "No"}).status_code == 404
    assert world_first(world).status == CommissionStatus.ACCRUED


def test_the_list_filters_by_partner_status_and_month(world, client_of):
    client = client_of(world.finance)
    first = world_first(world)
    Commission.objects.filter(pk=first.pk).update(
        accrued_on=datetime.date(2027, 1, 15), status=CommissionStatus.PAID
    )

    def shown(**query) -> list[int]:
        response = client.get(LIST, query)
        assert response.status_code == 200
        return [c.pk for c in response.context["page"]]

    assert len(shown()) == 2
    assert shown(status="paid") == [first.pk]
    assert first.pk not in shown(status="accrued")
    assert shown(month="2027-01") == [first.pk]
    assert shown(partner=world.agent.pk) == []
    assert len(shown(partner=world.broker.pk)) == 2
    # The owed report follows the partner and month: January's one is paid.
    assert client.get(LIST, {"month": "2027-01"}).context["owed"] == []
    wrong = client.get(LIST, {"month": "January"})
    assert "Give a month as year and month" in wrong.content.decode()
    assert len(wrong.context["page"].object_list) == 2


def test_an_empty_list_says_how_commissions_come(admin, client_of):
    world = finance_world(admin, learners=0)
    html = client_of(world.finance).get(LIST).content.decode()
    assert "Nothing is owed to agents or brokers." in html
    assert "No commissions yet." in html


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_list_reads_the_same_queries_for_3_and_30_commissions(admin, client_of):
    world = finance_world(admin, learners=0)
    agent = partner_make("agent", "AG-002", commission_trigger="placement", commission_value=100)
    client = client_of(world.finance)
    counts = []
    for added in (3, 27):
        accrue(world, added)
        placed = world.placed[-1]
        Commission.objects.create(
            partner=agent,
            learner=placed.learner,
            placement=placed.placement,
            basis="R100,00 per placement confirmed",
            amount=Decimal(100),
            accrued_on=timezone.localdate(),
            status=CommissionStatus.CANCELLED,
        )
        _queries(client, LIST)
        counts.append(_queries(client, LIST))
    assert Commission.objects.count() == 32
    assert counts[0] == counts[1]


# --- Cancelling ------------------------------------------------------------------------------


def test_finance_cancels_a_commission_after_the_page_that_says_what_it_does(world, client_of):
    client = client_of(world.finance)
    commission = world_first(world)
    url = reverse("finance:commission_cancel", args=[commission.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Cancel this commission?" in page.content.decode()
    commission.refresh_from_db()
    assert commission.status == CommissionStatus.ACCRUED

    missing = client.post(url, {"reason": ""})
    assert missing.status_code == 400
    assert "Say why the commission is no longer owed." in missing.content.decode()

    response = client.post(url, {"reason": "The placement was terminated."})
    assert response.status_code == 302
    assert response.url == LIST
    commission.refresh_from_db()
    assert commission.status == CommissionStatus.CANCELLED


def test_cancelling_a_paid_commission_shows_the_refusal(world, client_of):
    commission = world_first(world)
    Commission.objects.filter(pk=commission.pk).update(status=CommissionStatus.PAID)
    url = reverse("finance:commission_cancel", args=[commission.pk])
    response = client_of(world.finance).post(url, {"reason": "Fell through"})
    assert response.status_code == 400
    assert "only a commission still owed can be cancelled" in response.content.decode()
    assert AuditEvent.objects.filter(action="commission.cancel.refused").exists()


# --- Paying ----------------------------------------------------------------------------------


def test_the_payout_page_shows_the_bank_account_masked_and_chooses_whats_owed(world, client_of):
    bank_account_for(world.broker, world.second_finance)
    first, second = Commission.objects.filter(partner=world.broker).order_by("pk")
    Commission.objects.filter(pk=first.pk).update(accrued_on=datetime.date(2027, 4, 1))
    Commission.objects.filter(pk=second.pk).update(accrued_on=datetime.date(2027, 5, 2))
    client = client_of(world.finance)

    page = client.get(pay_url(world), {"up_to": "2027-04-30"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "FNB ••••6789" in html
    assert "Frank Finance" in html
    assert page.context["chosen"] == {first.pk}
    assert client.get(pay_url(world), {"up_to": "2027-05-31"}).context["chosen"] == {
        first.pk,
        second.pk,
    }


def test_the_payout_page_says_when_there_is_no_bank_account(world, client_of):
    html = client_of(world.finance).get(pay_url(world)).content.decode()
    assert 'data-testid="no-bank-account"' in html


def test_finance_pays_after_the_page_that_says_what_will_be_recorded(world, client_of):
    bank_account_for(world.broker, world.second_finance)
    commissions = list(Commission.objects.filter(partner=world.broker).order_by("pk"))
    client = client_of(world.finance)
    today = timezone.localdate()
    form = {
        "commissions": [c.pk for c in commissions],
        "method": PaymentMethod.EFT,
        "paid_on": today.isoformat(),
        "reference": "COMM-APRIL",
    }

    confirm = client.post(pay_url(world), form)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Record this payout?" in html
    assert "R1\xa0500,00" in html
    assert "Method: Bank transfer (EFT)." in html
    assert not Payment.objects.exists()

    changed = client.post(pay_url(world), {**form, "change": "yes"})
    assert "Record this payout?" not in changed.content.decode()
    assert changed.context["chosen"] == {c.pk for c in commissions}

    response = client.post(pay_url(world), {**form, "confirm": "yes"})
    assert response.status_code == 302
    assert response.url == reverse(
        "finance:partner_statement", args=[world.broker.pk, today.year, today.month]
    )
    payment = Payment.objects.get()
    assert payment.amount == Decimal("1500.00")
    assert payment.reference == "COMM-APRIL"
    assert set(Commission.objects.values_list("status", flat=True)) == {CommissionStatus.PAID}

    again = client.post(pay_url(world), {**form, "confirm": "yes"})
    assert again.status_code == 400
    assert "2 of the commissions chosen are already paid or cancelled" in again.content.decode()
    assert Payment.objects.count() == 1


def test_a_refused_payout_shows_why_and_is_audited(world, client_of):
    client = client_of(world.finance)
    today = timezone.localdate().isoformat()
    nothing = client.post(pay_url(world), {"method": "cash", "paid_on": today, "confirm": "yes"})
    assert nothing.status_code == 400
    assert "Choose at least one commission to pay." in nothing.content.decode()

    eft = client.post(
        pay_url(world),
        {
            "commissions": [world_first(world).pk],
            "method": "eft",
            "paid_on": today,
            "confirm": "yes",
        },
    )
    assert eft.status_code == 400
    assert "has no confirmed bank account" in eft.content.decode()
    assert AuditEvent.objects.filter(action="commission.pay.refused").count() == 2
    assert not Payment.objects.exists()


def test_a_payout_cannot_be_dated_ahead(world, client_of):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_of(world.finance).post(
        pay_url(world),
        {"commissions": [world_first(world).pk], "method": "cash", "paid_on": tomorrow},
    )
    assert response.status_code == 400
    assert "the date cannot be ahead" in response.content.decode()


# --- Another institution ---------------------------------------------------------------------


FOREIGN = 987_654


def test_another_institutions_commissions_and_partners_are_not_there(
    world, client_of, client_for, institution, other_institution
):
    connection.set_tenant(other_institution)
    try:
        there = UserFactory(roles=[SystemRole.FINANCE])
        partner = partner_make("broker", "BR-FAR", pk=FOREIGN)
        elsewhere = finance_world(UserFactory(roles=[SystemRole.ADMIN]), learners=1)
        Commission.objects.create(
            pk=FOREIGN,
            partner=partner,
            learner=elsewhere.learner.learner,
            placement=elsewhere.learner.placement,
            basis="R1,00",
            amount=Decimal(1),
            accrued_on=timezone.localdate(),
        )
        control = client_for(other_institution)
        control.force_login(there, backend="accounts.backends.RoleBackend")
        assert control.get(reverse("finance:commission_cancel", args=[FOREIGN])).status_code == 200
        assert control.get(reverse("finance:commissions_pay", args=[FOREIGN])).status_code == 200
    finally:
        connection.set_tenant(institution)
    client = client_of(world.finance)
    assert client.get(reverse("finance:commission_cancel", args=[FOREIGN])).status_code == 404
    assert client.get(reverse("finance:commissions_pay", args=[FOREIGN])).status_code == 404
    assert client.get(reverse("finance:partner_statements", args=[FOREIGN])).status_code == 404
    statement = reverse("finance:partner_statement", args=[FOREIGN, 2027, 3])
    assert client.get(statement).status_code == 404
    assert client.get(statement + "pdf/").status_code == 404
