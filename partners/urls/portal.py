"""The partner portal, for a partner's contacts."""

from django.urls import URLPattern, path

from partners.views import portal as views

urlpatterns: list[URLPattern] = [
    path("portal/", views.portal_view, name="portal"),
    path("portal/learners/<int:learner_pk>/", views.portal_candidate_view, name="portal_candidate"),
]
