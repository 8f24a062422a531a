"""Placements: the institution's pages, an organisation member's, a learner's."""

from django.urls import URLPattern, path

from placements.views import placements as views

_ADMIN_ACTIONS = ("confirm", "cancel", "start", "complete", "terminate")
_MEMBER_ACTIONS = ("confirm", "decline")

urlpatterns: list[URLPattern] = [
    path("placements/", views.placement_list_view, name="placement_list"),
    path("placements/new/", views.placement_create, name="placement_create"),
    path("placements/<int:pk>/", views.placement_detail_view, name="placement_detail"),
    *(
        path(
            f"placements/<int:pk>/{action}/",
            views.placement_action,
            {"action": action},
            name=f"placement_{action}",
        )
        for action in _ADMIN_ACTIONS
    ),
    path("member/placements/", views.member_placements, name="member_placements"),
    *(
        path(
            f"member/placements/<int:pk>/{action}/",
            views.member_placement_action,
            {"action": action},
            name=f"member_placement_{action}",
        )
        for action in _MEMBER_ACTIONS
    ),
    path("my/placements/", views.my_placements, name="my_placements"),
]
