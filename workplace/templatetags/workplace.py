"""How hours read on the workplace pages and in the portfolio PDF: as few decimals as they
need (7.5, 7.25, 8), the same everywhere."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def hours(value: object) -> str:
    """A number of hours without trailing zeros; empty for something that is not a number."""
    if value is None or value == "":
        return "0"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return ""
    return f"{number.normalize():f}" if number != number.to_integral() else f"{number:.0f}"
