"""Fees owed."""

from django.urls import URLPattern, path

from finance.views import fees as views

urlpatterns: list[URLPattern] = [
    path("fees/", views.fees_owed_page, name="fees_owed"),
    path("fees/draft-invoices/", views.fees_invoices_draft, name="fees_invoices_draft"),
]
