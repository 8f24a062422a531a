"""The cohort evidence pack (mounted at evidence/): the verify page is public."""

from django.urls import path

from reports import evidence_views as views

app_name = "evidence"
urlpatterns = [
    path("cohort/<int:pk>/", views.cohort_packs, name="cohort"),
    path("cohort/<int:pk>/build/", views.pack_build, name="build"),
    path("<int:pk>/", views.pack_detail, name="pack"),
    path("<int:pk>/download/", views.pack_download, name="download"),
    path("verify/", views.verify, name="verify"),
]
