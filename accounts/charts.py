"""The data of a chart on a page, as templates/charts/chart.html draws it (with static/js/charts.js)
and lays it out as a table for screen readers and for readers without JavaScript. Any app builds
these plain dicts in its selectors; the page passes them with `json_script`."""

from collections.abc import Sequence
from typing import Literal, TypedDict

# A "funnel" is drawn as horizontal bars in the order of its labels (each step of a process).
ChartType = Literal["bar", "line", "funnel"]
ChartUnit = Literal["", "%"]


class ChartDataset(TypedDict):
    label: str
    data: list[float]


class Chart(TypedDict):
    id: str
    type: ChartType
    title: str
    labels: list[str]
    datasets: list[ChartDataset]
    stacked: bool
    unit: ChartUnit


def chart_table_rows(chart: Chart) -> list[tuple[str, list[float]]]:
    """The chart as table rows: each label with its value in every dataset, in order."""
    columns: Sequence[list[float]] = [dataset["data"] for dataset in chart["datasets"]]
    return [
        (label, [column[index] for column in columns])
        for index, label in enumerate(chart["labels"])
    ]
