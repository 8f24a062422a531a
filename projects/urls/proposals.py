"""Filled in by the proposals area."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
