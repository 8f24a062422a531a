"""How hours read on the workplace pages and in the portfolio PDF (selectors.hours.hours_text)."""

from decimal import Decimal, InvalidOperation

from django import template

from workplace.selectors.hours import hours_text

register = template.Library()


@register.filter
def hours(value: object) -> str:
    """A number of hours without trailing zeros; 0 when there are none, empty for something
    that is not a number."""
    if value is None or value == "":
        return "0"
    try:
        return hours_text(Decimal(str(value)))
    except InvalidOperation:
        return ""
