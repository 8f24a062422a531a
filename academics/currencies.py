"""Currencies as ISO 4217 names them: the fee fields' check beyond their three-capitals format
(academics.models.CURRENCY_CODE), for the programme form and finance's fee services alike."""

import pycountry


def currency_error(code: str) -> str:
    """Why `code` is not a currency ("" when it is one)."""
    if pycountry.currencies.get(alpha_3=code) is not None:
        return ""
    return (
        f"{code or 'An empty code'} is not a currency: give its three-letter ISO 4217 code, "
        "such as ZAR."
    )
