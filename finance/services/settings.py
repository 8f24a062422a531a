"""The institution's finance settings: one row (pk 1), made on its first save. Changing them
affects what is issued afterwards; an issued invoice keeps the VAT rate and due date it was
issued with."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from academics.currencies import currency_error
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from finance.access import MANAGE_FINANCE
from finance.models import FinanceSettings

SETTINGS_FIELDS = (
    "vat_rate",
    "vat_number",
    "financial_year_start_month",
    "invoice_due_days",
    "currency",
    "payment_details",
    "stipend_deduction_per_absence",
)


def finance_settings_update(
    *,
    actor: User | None,
    vat_rate: Decimal,
    vat_number: str,
    financial_year_start_month: int,
    invoice_due_days: int,
    currency: str,
    payment_details: str,
    stipend_deduction_per_absence: Decimal,
) -> FinanceSettings:
    """Save the settings (validated by the model's own checks: a ValidationError names each
    wrong field) and audit what changed."""
    permission_check(actor=actor, action="finance_settings.update", permission=MANAGE_FINANCE)
    values: dict[str, object] = {
        "vat_rate": vat_rate,
        "vat_number": vat_number.strip(),
        "financial_year_start_month": financial_year_start_month,
        "invoice_due_days": invoice_due_days,
        "currency": currency.strip().upper(),
        "payment_details": payment_details.strip(),
        "stipend_deduction_per_absence": stipend_deduction_per_absence,
    }
    currency = currency.strip().upper()
    if currency_error(currency):
        raise ValidationError({"currency": currency_error(currency)})
    with transaction.atomic(durable=True):
        row = FinanceSettings.objects.select_for_update().filter(pk=1).first()
        created = row is None
        current: FinanceSettings = row or FinanceSettings(pk=1)
        old, new = {}, {}
        for name, value in values.items():
            if getattr(current, name) != value or created:
                old[name], new[name] = str(getattr(current, name)), str(value)
            setattr(current, name, value)
        current.full_clean()
        current.save()
        if new:
            audit_record(
                action="finance_settings.updated",
                entity=current,
                actor=actor,
                old_values={} if created else old,
                new_values=new,
            )
    return current
