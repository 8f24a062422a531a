"""Included under cohorts/<int:cohort_pk>/import/ (config.urls_tenant)."""

from django.urls import path

from cohorts import import_views

app_name = "cohort_import"

urlpatterns = [
    path("", import_views.import_upload, name="upload"),
    path("template.<str:kind>", import_views.import_template, name="template"),
    path("<int:pk>/", import_views.import_detail, name="detail"),
    path("<int:pk>/progress/", import_views.import_progress, name="progress"),
    path("<int:pk>/confirm/", import_views.import_confirm, name="confirm"),
    path("<int:pk>/cancel/", import_views.import_cancel, name="cancel"),
]
