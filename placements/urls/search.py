"""The distance search, matching, and urgent requests (admins' and members' pages)."""

from django.urls import path

from placements.views import search

urlpatterns = [
    path("search/", search.search, name="search"),
    path("cohorts/<int:cohort_pk>/matching/", search.matching, name="matching"),
    path("urgent/", search.urgent_list, name="urgent_list"),
    path("urgent/new/", search.urgent_create, name="urgent_create"),
    path("urgent/<int:pk>/", search.urgent_detail, name="urgent_detail"),
    path("urgent/<int:pk>/close/", search.urgent_close, name="urgent_close"),
    path("my-organisation/urgent/", search.member_urgent_list, name="member_urgent_list"),
    path(
        "my-organisation/urgent/<int:invite_pk>/",
        search.member_urgent_answer,
        name="member_urgent_answer",
    ),
]
