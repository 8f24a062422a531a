"""Workplace learning's pages, one module per area: assessors' and moderators' registrations,
the logbook and its mentors, portfolios and their assessment, moderation samples, and the
portfolio as one PDF, and staff's overview of a course run's portfolios."""

from workplace.urls import exports, logbook, moderation, portfolios, practitioners, runs

app_name = "workplace"

urlpatterns = [
    *practitioners.urlpatterns,
    *logbook.urlpatterns,
    *portfolios.urlpatterns,
    *moderation.urlpatterns,
    *exports.urlpatterns,
    *runs.urlpatterns,
]
