"""Filled in by the review area."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
