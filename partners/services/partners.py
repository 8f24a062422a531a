"""Adding and changing agents and brokers: their details, payment terms and commission rule, and
whether the institution still works with them. Each change is checked for
`partners.manage_partners` before its transaction, runs in one transaction with the partner's
row locked, and is audited with its old and new values (the contact's name, e-mail address and
phone are recorded as changed, never their values: Partner.PERSONAL_FIELDS). Business-rule
refusals are audited too (partners.services.refusals)."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from partners.access import MANAGE_PARTNERS
from partners.models import CommissionBasis, CommissionTrigger, Partner, PartnerKind
from partners.services.refusals import refusals_recorded

# What partner_create and partner_update take, besides the kind (fixed once created: who a
# partner brought and its contacts' role follow from it).
DETAIL_FIELDS = (
    "name",
    "code",
    "contact_name",
    "email",
    "phone",
    "address",
    "tax_number",
    "vat_number",
    "payment_terms_days",
    "payment_method",
    "commission_trigger",
    "commission_basis",
    "commission_value",
)
_TEXT_FIELDS = ("name", "contact_name", "email", "phone", "tax_number", "vat_number")


def _details_clean(values: dict[str, Any], *, partner: Partner | None) -> dict[str, Any]:
    """The details as stored (trimmed, the code in capitals, no commission value without a
    rule), or a ValidationError keyed by field with a message that says what to do."""
    unknown = set(values) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"Not a partner's detail: {', '.join(sorted(unknown))}.")
    cleaned = dict(values)
    for name in _TEXT_FIELDS:
        cleaned[name] = " ".join(str(cleaned.get(name) or "").split())
    cleaned["email"] = cleaned["email"].lower()
    cleaned["address"] = str(cleaned.get("address") or "").strip()
    cleaned["code"] = "".join(str(cleaned.get("code") or "").split()).upper()
    value = cleaned.get("commission_value")
    cleaned["commission_value"] = Decimal(value if value is not None else 0)
    errors: dict[str, str] = {}
    if cleaned["code"]:
        taken = Partner.objects.filter(code=cleaned["code"])
        if partner is not None:
            taken = taken.exclude(pk=partner.pk)
        holder = taken.first()
        if holder is not None:
            errors["code"] = (
                f"{holder.name} already has the code {cleaned['code']}: give this "
                f"{'partner' if partner is None else partner.get_kind_display().lower()} "
                "another one."
            )
    if cleaned.get("commission_trigger") == CommissionTrigger.NONE:
        cleaned["commission_basis"] = CommissionBasis.FIXED
        cleaned["commission_value"] = Decimal("0")
    elif cleaned["commission_value"] <= 0:
        errors["commission_value"] = (
            "Give the commission: more than 0, or choose “No commission” for what earns it."
        )
    elif (
        cleaned.get("commission_basis") == CommissionBasis.PERCENT_OF_FEE
        and cleaned["commission_value"] > 100
    ):
        errors["commission_value"] = "A percentage of the fee is at most 100."
    if errors:
        raise ValidationError(errors)
    return cleaned


def _saved(partner: Partner, **kwargs: Any) -> None:
    """Validate and save, turning a code taken at the same moment into the refusal above."""
    partner.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            partner.save(**kwargs)
    except IntegrityError as error:
        raise ValidationError(
            {"code": "Another partner was saved with this code at the same moment: give another."}
        ) from error


def _audit_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def partner_create(*, actor: User | None, kind: str, **details: Any) -> Partner:
    """Add an agent or a broker with its details, terms and commission rule."""
    permission_check(actor=actor, permission=MANAGE_PARTNERS, action="partner.create")
    with refusals_recorded(actor=actor, action="partner.create"):
        if kind not in PartnerKind.values:
            raise ValidationError({"kind": "Choose agent or broker."})
        with transaction.atomic(durable=True):
            cleaned = _details_clean(details, partner=None)
            partner = Partner(kind=kind, **cleaned)
            _saved(partner)
            audit_record(
                actor=actor,
                action="partner.created",
                entity=partner,
                new_values={
                    "kind": kind,
                    **{name: _audit_value(value) for name, value in cleaned.items()},
                },
            )
    return partner


def partner_update(*, actor: User | None, partner: Partner, **details: Any) -> Partner:
    """Change a partner's details, terms or commission rule (its kind stays). Commission
    already accrued keeps the rule it was accrued under; the new rule applies from now on."""
    permission_check(actor=actor, permission=MANAGE_PARTNERS, action="partner.update")
    with (
        refusals_recorded(actor=actor, action="partner.update", entity=partner),
        transaction.atomic(durable=True),
    ):
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        cleaned = _details_clean(details, partner=locked)
        old_values: dict[str, Any] = {}
        new_values: dict[str, Any] = {}
        for name, value in cleaned.items():
            current = getattr(locked, name)
            if current != value:
                old_values[name], new_values[name] = _audit_value(current), _audit_value(value)
                setattr(locked, name, value)
        if not new_values:
            return locked
        _saved(locked, update_fields=[*new_values, "updated_at"])
        audit_record(
            actor=actor,
            action="partner.updated",
            entity=locked,
            old_values=old_values,
            new_values=new_values,
        )
    return locked


def partner_active_set(*, actor: User | None, partner: Partner, active: bool) -> Partner:
    """Stop (or start again) working with a partner. A deactivated partner is offered for no
    new learner; the learners it brought, its contacts and its commission stay."""
    permission_check(actor=actor, permission=MANAGE_PARTNERS, action="partner.active_set")
    with (
        refusals_recorded(actor=actor, action="partner.active_set", entity=partner),
        transaction.atomic(durable=True),
    ):
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        if locked.is_active == active:
            raise ValidationError(
                f"{locked.name} is already {'active' if active else 'deactivated'}."
            )
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action="partner.reactivated" if active else "partner.deactivated",
            entity=locked,
            old_values={"is_active": not active},
            new_values={"is_active": active},
        )
    return locked
