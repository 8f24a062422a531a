"""The finance settings."""

from django.urls import URLPattern, path

from finance.views import settings as views

urlpatterns: list[URLPattern] = [
    path("settings/", views.finance_settings, name="settings"),
]
