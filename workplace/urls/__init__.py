"""Workplace learning's pages, one module per area: assessors' and moderators' registrations,
the logbook and its mentors, portfolios and their assessment, moderation samples, and the
portfolio as one PDF."""

from workplace.urls import exports, logbook, moderation, portfolios, practitioners

app_name = "workplace"

urlpatterns = [
    *practitioners.urlpatterns,
    *logbook.urlpatterns,
    *portfolios.urlpatterns,
    *moderation.urlpatterns,
    *exports.urlpatterns,
]
