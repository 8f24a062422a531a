"""The reports' filters: the financial year of the income report."""

from typing import Any

from django import forms

from accounts.lists import FilterForm


class IncomeYearForm(FilterForm):
    year = forms.TypedChoiceField(label="Financial year", coerce=int, required=False)

    def __init__(self, *args: Any, years: list[int], start_month: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        first = "January" if start_month == 1 else None
        field = self.fields["year"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (year, str(year) if first else f"{year} ({_span(year, start_month)})") for year in years
        ]


def _span(year: int, start_month: int) -> str:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{months[start_month - 1]} {year - 1} – {months[start_month - 2]} {year}"
