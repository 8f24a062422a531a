"""The staff overview of a course run's portfolios of evidence."""

from django.urls import URLPattern, path

from workplace.views import runs

urlpatterns: list[URLPattern] = [
    path("runs/<int:run_pk>/portfolios/", runs.run_portfolios, name="run_portfolios"),
]
