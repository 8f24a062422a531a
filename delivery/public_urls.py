"""Pages anyone may open on the institution's site: verifying a certificate."""

from django.urls import URLPattern, path

from delivery.views import certificates as views

app_name = "delivery_public"
urlpatterns: list[URLPattern] = [
    path("verify/", views.verify, name="verify"),
]
