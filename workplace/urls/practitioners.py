"""Assessors' and moderators' registrations."""

from django.urls import URLPattern, path

from workplace.views import practitioners as views

urlpatterns: list[URLPattern] = [
    path("practitioners/", views.practitioner_list, name="practitioner_list"),
    path("practitioners/new/", views.practitioner_add, name="practitioner_add"),
    path("practitioners/<int:pk>/", views.practitioner_edit, name="practitioner_edit"),
]
