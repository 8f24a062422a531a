"""The reports Cohortly can run: each is built in code (a selector with typed parameters and the
columns it gives), registered here under a key. A saved definition (ReportDefinition.query)
and an execution name a report by that key, never by SQL a user typed.

A report's rows come from a generator, so that an export of 100,000 rows is written as it is
read (reports.exports) and never held in memory whole."""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from django import forms

ColumnKind = Literal["text", "int", "decimal", "percent", "money", "date", "datetime"]


@dataclass(frozen=True)
class Column:
    """One column of a report: its key in each row, its heading, how it is written."""

    key: str
    label: str
    kind: ColumnKind = "text"
    # An equity count: suppressed below the small-numbers threshold in exports that leave the
    # institution (reports.suppression).
    small_count: bool = False


@dataclass(frozen=True)
class Parameter:
    """One typed parameter: `field` makes the form field that checks a value typed on the page
    or saved in a definition; `to_json` and `from_json` turn the cleaned value into what is
    stored (ids, ISO dates) and back."""

    name: str
    label: str
    field: Callable[[], forms.Field]
    to_json: Callable[[Any], Any] = lambda value: value
    from_json: Callable[[Any], Any] = lambda value: value
    help_text: str = ""


Rows = Iterator[dict[str, Any]]


@dataclass(frozen=True)
class Report:
    """A report built in code. `rows(params)` yields one dict per row (keyed by the columns'
    keys) from the cleaned parameters; `count(params)`, when given, says how many rows to
    expect, for the progress shown while an execution runs."""

    key: str
    title: str
    description: str
    # The permission ("app_label.codename") a person needs, beyond reports.view_reports, to
    # run this report or download its results.
    permission: str
    parameters: tuple[Parameter, ...]
    columns: tuple[Column, ...]
    rows: Callable[[Mapping[str, Any]], Rows]
    count: Callable[[Mapping[str, Any]], int] | None = None
    # The area it belongs to, for grouping on the reports page.
    area: str = "Programmes"
    # When given, the page shows the rows as a chart above its table: the chart's data
    # (templates/charts/chart.html) made from the rows.
    chart: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    def columns_chosen(self, keys: list[str] | None) -> tuple[Column, ...]:
        """The columns named in `keys`, in the report's order; all of them when none."""
        if not keys:
            return self.columns
        chosen = set(keys)
        return tuple(column for column in self.columns if column.key in chosen)

    def parameters_form(self, data: Mapping[str, Any] | None = None) -> forms.Form:
        """A form with one field per parameter, bound to `data` when given."""
        fields = {}
        for parameter in self.parameters:
            form_field = parameter.field()
            form_field.label = parameter.label
            if parameter.help_text:
                form_field.help_text = parameter.help_text
            fields[parameter.name] = form_field
        form_class = type(f"{self.key.title()}ParametersForm", (forms.Form,), fields)
        return form_class(data)


class UnknownReport(LookupError):
    pass


_REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    """Add `report` under its key (once: a second report under the same key is a mistake)."""
    if report.key in _REPORTS:
        raise ValueError(f"A report is already registered as {report.key!r}.")
    _REPORTS[report.key] = report
    return report


def report_for(key: str) -> Report:
    try:
        return _REPORTS[key]
    except KeyError:
        raise UnknownReport(f"There is no report {key!r}.") from None


def reports_all() -> list[Report]:
    return sorted(_REPORTS.values(), key=lambda report: (report.area, report.title))


def parameters_to_json(report: Report, cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """The cleaned parameter values as stored on a definition or an execution."""
    by_name = {parameter.name: parameter for parameter in report.parameters}
    return {
        name: (by_name[name].to_json(value) if value not in (None, "") else None)
        for name, value in cleaned.items()
        if name in by_name
    }


def parameters_from_json(report: Report, stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored parameter values back as the report's rows expect them."""
    by_name = {parameter.name: parameter for parameter in report.parameters}
    return {
        name: (by_name[name].from_json(value) if value is not None else None)
        for name, value in stored.items()
        if name in by_name
    }


def date_to_json(value: date) -> str:
    return value.isoformat()


def date_from_json(value: str) -> date:
    return date.fromisoformat(value)
