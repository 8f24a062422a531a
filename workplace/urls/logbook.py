"""The logbook and its mentors: a learner's logbooks, one logbook and its weeks, entries and
their evidence, handing a week in and the mentor's review, a mentor's mentees and naming a
placement's mentor. A week is the ISO date of its Monday."""

from django.urls import URLPattern, path

from workplace.views import logbook, mentors

_WEEK = "logbooks/<int:placement_pk>/weeks/<str:week>/"

urlpatterns: list[URLPattern] = [
    path("my/logbooks/", logbook.my_logbooks_view, name="my_logbooks"),
    path("logbooks/<int:placement_pk>/", logbook.logbook_view, name="logbook"),
    path(_WEEK, logbook.logbook_week_view, name="logbook_week"),
    path(f"{_WEEK}hand-in/", logbook.week_submit_view, name="week_submit"),
    path(f"{_WEEK}review/", logbook.week_review_view, name="week_review"),
    path("logbooks/<int:placement_pk>/entries/new/", logbook.entry_add_view, name="entry_add"),
    path("logbook-entries/<int:pk>/edit/", logbook.entry_edit, name="entry_edit"),
    path("logbook-entries/<int:pk>/delete/", logbook.entry_delete_view, name="entry_delete"),
    path(
        "logbook-entries/<int:pk>/evidence/",
        logbook.entry_evidence_add_view,
        name="entry_evidence_add",
    ),
    path("logbook-evidence/<int:pk>/", logbook.logbook_evidence_file, name="logbook_evidence_file"),
    path("mentees/", mentors.mentees_view, name="mentees"),
    path("placements/<int:placement_pk>/mentor/", mentors.mentor_assign_view, name="mentor_assign"),
]
