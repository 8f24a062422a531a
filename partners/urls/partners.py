"""Agents and brokers, their candidates and contacts, and who brought a learner."""

from django.urls import URLPattern, path

from partners.views import partners as views

urlpatterns: list[URLPattern] = [
    path("", views.partner_list_view, name="list"),
    path("new/", views.partner_add_view, name="add"),
    path("<int:pk>/", views.partner_detail_view, name="detail"),
    path("<int:pk>/edit/", views.partner_edit_view, name="edit"),
    path("<int:pk>/active/", views.partner_active_view, name="active"),
    path("<int:pk>/candidates/add/", views.candidate_search_view, name="candidate_search"),
    path("<int:pk>/contacts/new/", views.contact_invite_view, name="contact_invite"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/remove/",
        views.contact_remove_view,
        name="contact_remove",
    ),
    path("learners/<int:learner_pk>/introduction/", views.introduction_view, name="introduction"),
]
