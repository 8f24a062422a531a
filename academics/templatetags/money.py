"""`{{ amount|money:currency }}`: an amount as people read it (R12 345,50); the currency
defaults to ZAR, and no amount shows as nothing."""

from decimal import Decimal

from django import template

from academics.currencies import DEFAULT_CURRENCY, money_text

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = DEFAULT_CURRENCY) -> str:
    return money_text(amount, currency or DEFAULT_CURRENCY)
