from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("redrive/", views.jobs_redrive, name="jobs_redrive"),
    path("<int:job_id>/", views.job_detail, name="job_detail"),
    path("<int:job_id>/retry/", views.job_retry, name="job_retry"),
    path("<int:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("connector/", views.connector_settings, name="connector_settings"),
]
