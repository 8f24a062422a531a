"""Filled in by the team area."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
