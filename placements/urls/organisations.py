"""Organisations' pages (placements.views.organisations), and a learner's home coordinates."""

from django.urls import URLPattern, path

from placements.views import organisations as views

urlpatterns: list[URLPattern] = [
    path("organisations/", views.organisation_list_view, name="organisation_list"),
    path("organisations/new/", views.organisation_create_view, name="organisation_create"),
    path("organisations/import/", views.organisation_import_view, name="organisation_import"),
    path(
        "organisations/import/preview/",
        views.organisation_import_preview_view,
        name="organisation_import_preview",
    ),
    path(
        "organisations/import/confirm/",
        views.organisation_import_confirm_view,
        name="organisation_import_confirm",
    ),
    path(
        "organisations/import/template.<str:kind>",
        views.organisation_import_template_view,
        name="organisation_import_template",
    ),
    path("organisations/<int:pk>/", views.organisation_detail_view, name="organisation_detail"),
    path("organisations/<int:pk>/edit/", views.organisation_edit_view, name="organisation_edit"),
    path(
        "organisations/<int:pk>/address/",
        views.organisation_address_view,
        name="organisation_address",
    ),
    path(
        "organisations/<int:pk>/coordinates/",
        views.organisation_coordinates_view,
        name="organisation_coordinates",
    ),
    path(
        "organisations/<int:pk>/lookup/", views.organisation_lookup_view, name="organisation_lookup"
    ),
    path(
        "organisations/<int:pk>/deactivate/",
        views.organisation_active_view,
        {"active": False},
        name="organisation_deactivate",
    ),
    path(
        "organisations/<int:pk>/reactivate/",
        views.organisation_active_view,
        {"active": True},
        name="organisation_reactivate",
    ),
    path(
        "organisations/<int:pk>/contacts/new/",
        views.organisation_contact_add_view,
        name="organisation_contact_add",
    ),
    path(
        "organisations/<int:pk>/contacts/<int:contact_pk>/edit/",
        views.organisation_contact_edit_view,
        name="organisation_contact_edit",
    ),
    path(
        "organisations/<int:pk>/contacts/<int:contact_pk>/remove/",
        views.organisation_contact_remove_view,
        name="organisation_contact_remove",
    ),
    path(
        "learners/<int:learner_pk>/location/",
        views.learner_location_view,
        name="learner_location",
    ),
    path(
        "learners/<int:learner_pk>/location/lookup/",
        views.learner_location_lookup_view,
        name="learner_location_lookup",
    ),
]
