"""Bank details change in two steps: one person asks for the new details, another confirms
them (nobody alone can send a partner's or a learner's money elsewhere). Each step is checked,
runs with its rows locked and is audited with the details masked; refusals are audited (by
accounts.permissions, or partners.services.refusals for the business rules)."""

import hmac

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from learners.models import Learner
from partners.access import MANAGE_PARTNERS
from partners.bank import BankDetails, bank_details_clean, bank_details_open, bank_details_seal
from partners.models import BankAccount, BankAccountChange, BankChangeStatus, Partner
from partners.services.refusals import refusals_recorded

NUMBERS_DIFFER = (
    "The account number or branch code you typed differs from the details asked for: check "
    "them against the bank's letter, or reject the change."
)


def _owner(partner: Partner | None, learner: Learner | None) -> dict[str, object]:
    if (partner is None) == (learner is None):
        raise TypeError("Bank details belong to a partner or to a learner: give one.")
    return {"partner": partner} if partner is not None else {"learner": learner}


def bank_change_request(
    *,
    actor: User | None,
    details: BankDetails,
    partner: Partner | None = None,
    learner: Learner | None = None,
) -> BankAccountChange:
    """Ask for new bank details for `partner` or `learner`; they are used only once another
    person confirms them. One request waits at a time."""
    owner = _owner(partner, learner)
    permission_check(actor=actor, action="bank_account.change_request", permission=MANAGE_PARTNERS)
    details = bank_details_clean(details)
    with transaction.atomic(durable=True):
        if BankAccountChange.objects.filter(status=BankChangeStatus.PENDING, **owner).exists():
            raise ValidationError(
                "New bank details are already waiting to be confirmed: confirm or reject them "
                "first."
            )
        change = BankAccountChange.objects.create(
            **owner,
            bank_name=details.bank_name,
            account_last4=details.last4,
            sealed=bank_details_seal(details),
            requested_by=actor,
        )
        audit_record(
            action="bank_account.change_requested",
            entity=change,
            actor=actor,
            new_values={"bank_name": details.bank_name, "account": f"••••{details.last4}"},
        )
    return change


def _pending_locked(change: BankAccountChange) -> BankAccountChange:
    locked = BankAccountChange.objects.select_for_update().get(pk=change.pk)
    if locked.status != BankChangeStatus.PENDING:
        raise ValidationError("These bank details have already been confirmed or rejected.")
    return locked


def _digits(text: str) -> bytes:
    return "".join(character for character in text if character.isdigit()).encode()


def _same_numbers(change: BankAccountChange, *, account_number: str, branch_code: str) -> bool:
    asked = bank_details_open(change.sealed)
    same_number = hmac.compare_digest(_digits(account_number), _digits(asked.account_number))
    same_branch = hmac.compare_digest(_digits(branch_code), _digits(asked.branch_code))
    return same_number and same_branch


def bank_change_confirm(
    *, actor: User | None, change: BankAccountChange, account_number: str, branch_code: str
) -> BankAccount:
    """Put the requested details in force; refused to the person who asked for them, and
    unless the account number and branch code the confirmer typed from the source document
    match the ones asked for (so that confirming is a check, not a click)."""
    permission_check(
        actor=actor,
        action="bank_account.change_confirm",
        permission=MANAGE_PARTNERS,
        allowed=actor is None or actor.pk != change.requested_by_id,
    )
    with (
        refusals_recorded(actor=actor, action="bank_account.change_confirm", entity=change),
        transaction.atomic(durable=True),
    ):
        change = _pending_locked(change)
        if not _same_numbers(change, account_number=account_number, branch_code=branch_code):
            raise ValidationError(NUMBERS_DIFFER)
        owner = {"partner_id": change.partner_id, "learner_id": change.learner_id}
        account = BankAccount.objects.select_for_update().filter(**owner).first()
        old_values = (
            {"bank_name": account.bank_name, "account": f"••••{account.account_last4}"}
            if account is not None
            else {}
        )
        if account is None:
            account = BankAccount(**owner)
        account.bank_name = change.bank_name
        account.account_last4 = change.account_last4
        account.sealed = change.sealed
        account.confirmed_by = actor
        account.confirmed_at = timezone.now()
        account.save()
        change.status = BankChangeStatus.CONFIRMED
        change.decided_by = actor
        change.decided_at = account.confirmed_at
        change.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(
            action="bank_account.change_confirmed",
            entity=account,
            actor=actor,
            old_values=old_values,
            new_values={"bank_name": change.bank_name, "account": f"••••{change.account_last4}"},
        )
    return account


def bank_change_reject(*, actor: User | None, change: BankAccountChange, reason: str) -> None:
    """Turn down requested details (the one who asked may withdraw them the same way)."""
    permission_check(actor=actor, action="bank_account.change_reject", permission=MANAGE_PARTNERS)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the bank details are rejected."})
    with transaction.atomic(durable=True):
        change = _pending_locked(change)
        change.status = BankChangeStatus.REJECTED
        change.decided_by = actor
        change.decided_at = timezone.now()
        change.rejection_reason = reason.strip()
        change.save(update_fields=["status", "decided_by", "decided_at", "rejection_reason"])
        audit_record(
            action="bank_account.change_rejected",
            entity=change,
            actor=actor,
            new_values={"reason": reason.strip()},
        )


def learner_bank_details_delete(*, learner: Learner) -> int:
    """Delete the learner's bank account and its change requests, confirmed or not, when the
    learner is anonymised: stipends paid keep their own records. Composed inside the data
    protection job's transaction (not durable); returns how many rows went."""
    accounts, _by_model = BankAccount.objects.filter(learner=learner).delete()
    changes, _by_model = BankAccountChange.objects.filter(learner=learner).delete()
    if accounts or changes:
        audit_record(
            action="bank_details.deleted",
            entity_type="learners.learner",
            entity_id=learner.pk,
            new_values={"accounts": accounts, "changes": changes},
        )
    return accounts + changes
