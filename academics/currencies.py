"""Currencies as ISO 4217 names them: the fee fields' check beyond their three-capitals format
(academics.models.CURRENCY_CODE), for the programme form and finance's fee services alike; and
money as amounts in a currency (py-moneyed), written the South African way."""

from decimal import ROUND_HALF_UP, Decimal

import pycountry
from moneyed import Money
from moneyed.l10n import format_money

DEFAULT_CURRENCY = "ZAR"
MONEY_LOCALE = "en_ZA"
CENT = Decimal("0.01")


def currency_error(code: str) -> str:
    """Why `code` is not a currency ("" when it is one)."""
    if pycountry.currencies.get(alpha_3=code) is not None:
        return ""
    return (
        f"{code or 'An empty code'} is not a currency: give its three-letter ISO 4217 code, "
        "such as ZAR."
    )


def money(amount: Decimal, currency: str = DEFAULT_CURRENCY) -> Money:
    """An amount in a currency, for sums and display: never a float."""
    return Money(amount, currency)


def money_text(amount: Decimal | None, currency: str = DEFAULT_CURRENCY) -> str:
    """The amount as the institution's people write it (R12 345,50), "" for None."""
    if amount is None:
        return ""
    return format_money(money(amount, currency), locale=MONEY_LOCALE)


def cents(amount: Decimal) -> Decimal:
    """Rounded to whole cents, halves away from zero (as invoices and VAT are rounded)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
