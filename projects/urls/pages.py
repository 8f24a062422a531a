"""Filled in by the pages area."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
