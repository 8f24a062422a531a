"""Bank details at rest: the holder, bank, branch code, account type and number are sealed
together under the institution's data keys (learners.keys), bound to what they are; the bank's
name and the number's last four digits stay readable so that pages show them masked. Only a
payment file opens them (the stipend run's, the commission payout's)."""

import json
from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError

from learners.keys import text_decrypt, text_encrypt
from partners.models import BankAccountType

BANK_CONTEXT = b"cohortly-bank-details"


@dataclass(frozen=True)
class BankDetails:
    holder: str
    bank_name: str
    branch_code: str
    account_number: str
    account_type: str = BankAccountType.CURRENT

    @property
    def last4(self) -> str:
        return self.account_number[-4:]

    @property
    def masked(self) -> str:
        return f"{self.bank_name} ••••{self.last4}"


def bank_details_clean(details: BankDetails) -> BankDetails:
    """The details as stored (digits only in the branch code and number, names trimmed), or a
    ValidationError naming each field that is wrong."""
    number = "".join(details.account_number.split()).replace("-", "")
    branch = "".join(details.branch_code.split())
    errors: dict[str, str] = {}
    if not details.holder.strip():
        errors["holder"] = "Give the account holder's name as the bank has it."
    if not details.bank_name.strip():
        errors["bank_name"] = "Give the bank's name."
    if not (branch.isdigit() and len(branch) == 6):
        errors["branch_code"] = "Give the six-digit branch (universal) code."
    if not (number.isdigit() and 6 <= len(number) <= 16):
        errors["account_number"] = "Give the account number: 6 to 16 digits."
    if details.account_type not in BankAccountType.values:
        errors["account_type"] = "Choose current, savings or transmission."
    if errors:
        raise ValidationError(errors)
    return BankDetails(
        holder=details.holder.strip(),
        bank_name=details.bank_name.strip(),
        branch_code=branch,
        account_number=number,
        account_type=details.account_type,
    )


def bank_details_seal(details: BankDetails) -> bytes:
    return text_encrypt(json.dumps(asdict(details)), context=BANK_CONTEXT)


def bank_details_open(sealed: bytes | memoryview) -> BankDetails:
    return BankDetails(**json.loads(text_decrypt(sealed, context=BANK_CONTEXT)))
