"""Pages anyone may open on the institution's site: verifying a certificate."""

from django.urls import URLPattern

app_name = "delivery_public"
urlpatterns: list[URLPattern] = []
