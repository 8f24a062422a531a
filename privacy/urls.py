from django.urls import URLPattern, path

from privacy import views

app_name = "privacy"
urlpatterns: list[URLPattern] = [
    path("", views.settings, name="settings"),
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/start/", views.job_start, name="job_start"),
    path("jobs/<int:pk>/", views.job_run_detail, name="job_run"),
    path("jobs/<slug:kind>/confirm/", views.job_confirm, name="job_confirm"),
]
