"""Organisation members' pages (`member_*`), the admin's pages about members and preferences,
and the placement subject tree."""

from django.urls import path

from placements.views import members, subjects

urlpatterns = [
    path("my-organisation/", members.member_home, name="member_home"),
    path("my-organisation/switch/", members.member_switch, name="member_switch"),
    path(
        "my-organisation/preferences/<int:year_pk>/",
        members.member_preference,
        name="member_preference",
    ),
    path(
        "organisations/<int:pk>/members/",
        members.organisation_members,
        name="organisation_members",
    ),
    path(
        "organisations/<int:pk>/members/<int:membership_pk>/remove/",
        members.organisation_member_remove,
        name="organisation_member_remove",
    ),
    path(
        "organisations/<int:pk>/preferences/",
        members.organisation_preferences,
        name="organisation_preferences",
    ),
    path(
        "organisations/<int:pk>/preferences/<int:year_pk>/",
        members.organisation_preference_edit,
        name="organisation_preference_edit",
    ),
    path("preferences/", members.preference_overview, name="preference_overview"),
    path("subjects/", subjects.subject_list, name="subject_list"),
    path("subjects/new/", subjects.subject_add, name="subject_add"),
    path("subjects/<int:pk>/", subjects.subject_edit, name="subject_edit"),
    path(
        "subjects/<int:pk>/deactivate/",
        subjects.subject_deactivate_confirm,
        name="subject_deactivate",
    ),
]
