"""SETA grant agreements and their claims."""

from django.urls import URLPattern, path

from finance.views import grants as views

urlpatterns: list[URLPattern] = [
    path("grants/", views.grant_list, name="grants"),
    path("grants/new/", views.grant_create, name="grant_create"),
    path("grants/<int:pk>/", views.grant_detail, name="grant"),
    path("grants/<int:pk>/edit/", views.grant_edit, name="grant_edit"),
    path("grants/<int:pk>/refresh/", views.grant_claims_refresh, name="grant_claims_refresh"),
    path("grants/<int:pk>/claims/", views.grant_claims_action, name="grant_claims_action"),
]
