"""The institution's finance settings, read without writing: the stored row, or the defaults
until someone saves them."""

from finance.models import FinanceSettings


def finance_settings_current() -> FinanceSettings:
    return FinanceSettings.objects.filter(pk=1).first() or FinanceSettings(pk=1)
