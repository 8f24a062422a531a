"""The one include every chart uses: its data for the script, its accessible name, and a table
with the same numbers, for any number of datasets (a stacked equity breakdown has several)."""

import json
import re

from django.template.loader import render_to_string

from accounts.charts import Chart

EQUITY: Chart = {
    "id": "equity-chart",
    "type": "bar",
    "title": "Learners by race and gender",
    "labels": ["African", "Coloured", "Indian", "White"],
    "datasets": [
        {"label": "Female", "data": [12, 5, 0, 3]},
        {"label": "Male", "data": [9, 4, 2, 1]},
        {"label": "Non-binary", "data": [1, 0, 0, 0]},
    ],
    "stacked": True,
    "unit": "",
}


def _render(chart: Chart) -> str:
    return render_to_string("charts/chart.html", {"chart": chart})


def test_stacked_chart_has_its_data_a_name_and_a_table_of_every_dataset():
    html = _render(EQUITY)

    data = re.search(r'<script id="equity-chart-data" type="application/json">(.*?)</script>', html)
    assert data is not None
    assert json.loads(data.group(1)) == EQUITY
    assert 'role="img" aria-label="Learners by race and gender: chart' in html
    assert '<caption class="visually-hidden">Learners by race and gender</caption>' in html
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html)
    assert headers == ["Female", "Male", "Non-binary"]
    rows = re.findall(r'<tr><th scope="row"[^>]*>(.*?)</th>(.*?)</tr>', html)
    assert [label for label, _ in rows] == EQUITY["labels"]
    assert [re.findall(r"<td[^>]*>(.*?)</td>", cells) for _, cells in rows][2] == ["0", "2", "0"]


def test_table_shows_the_unit_and_is_open_until_the_chart_is_drawn():
    html = _render(
        {**EQUITY, "unit": "%", "datasets": [{"label": "Rate", "data": [80.5, 0, 1, 2]}]}
    )

    assert '<td class="text-end">80.5%</td>' in html
    assert '<details class="chart-table mt-2" open>' in html
    assert 'class="chart-canvas ratio overflow-hidden" hidden' in html


def test_chart_without_labels_says_there_is_nothing_yet():
    html = _render({**EQUITY, "labels": [], "datasets": []})

    assert "Nothing to show yet." in html
    assert "<canvas" not in html
    assert '<script id="equity-chart-data"' not in html
