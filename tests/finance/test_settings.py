"""The finance settings: made on first save, audited, checked; seen by admins read-only."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from finance.models import FinanceSettings
from finance.services.settings import finance_settings_update
from tests.finance.support import finance_world

pytestmark = pytest.mark.django_db

VALUES = {
    "vat_rate": Decimal("15.00"),
    "vat_number": "4123456789",
    "financial_year_start_month": 3,
    "invoice_due_days": 14,
    "currency": "zar",
    "payment_details": "First Bank 123",
    "stipend_deduction_per_absence": Decimal("50.00"),
}


@pytest.fixture
def world(admin):
    return finance_world(admin)


def test_the_first_save_makes_the_row_and_is_audited(world):
    saved = finance_settings_update(actor=world.finance, **VALUES)
    row = FinanceSettings.objects.get(pk=1)
    assert row == saved
    assert (row.currency, row.invoice_due_days) == ("ZAR", 14)
    event = AuditEvent.objects.get(action="finance_settings.updated")
    assert event.new_values["vat_number"] == "4123456789"
    finance_settings_update(actor=world.finance, **(VALUES | {"invoice_due_days": 30}))
    latest = AuditEvent.objects.filter(action="finance_settings.updated").latest("id")
    assert latest.old_values == {"invoice_due_days": "14"}
    assert latest.new_values == {"invoice_due_days": "30"}


def test_bad_values_are_refused_by_field(world):
    with pytest.raises(ValidationError) as refused:
        finance_settings_update(actor=world.finance, **(VALUES | {"currency": "XYZ"}))
    assert "currency" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        finance_settings_update(actor=world.finance, **(VALUES | {"vat_rate": Decimal(101)}))
    assert "vat_rate" in refused.value.error_dict
    assert not FinanceSettings.objects.exists()


def test_only_finance_changes_the_settings(world):
    with pytest.raises(PermissionDenied):
        finance_settings_update(actor=world.admin, **VALUES)
    assert not FinanceSettings.objects.exists()


def test_the_page_saves_for_finance_and_is_read_only_for_admins(world, client_of):
    url = reverse("finance:settings")
    page = client_of(world.finance).get(url)
    assert page.status_code == 200
    assert (
        b"2027 = March 2026" in page.content
        or b"1 March 2026 \xe2\x80\x93 28 February 2027" in page.content
    )
    response = client_of(world.finance).post(
        url, {**VALUES, "currency": "ZAR", "vat_rate": "15", "invoice_due_days": "21"}
    )
    assert response.status_code == 302
    assert FinanceSettings.objects.get(pk=1).invoice_due_days == 21
    admin_page = client_of(world.admin).get(url)
    assert admin_page.status_code == 200
    assert b"Save settings" not in admin_page.content
    assert b"only the finance team changes them" in admin_page.content
    refused = client_of(world.admin).post(url, {**VALUES, "invoice_due_days": "99"})
    assert refused.status_code == 404
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="finance_settings.update", actor=world.admin
    ).exists()
    assert FinanceSettings.objects.get(pk=1).invoice_due_days == 21


def test_others_get_a_404(world, client_of):
    learner_user = world.learner.user
    assert client_of(learner_user).get(reverse("finance:settings")).status_code == 404
