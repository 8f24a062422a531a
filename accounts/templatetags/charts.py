"""Filters for templates/charts/chart.html (see accounts.charts)."""

from django import template

from accounts.charts import Chart, chart_table_rows

register = template.Library()


@register.filter
def table_rows(chart: Chart) -> list[tuple[str, list[float]]]:
    return chart_table_rows(chart)
