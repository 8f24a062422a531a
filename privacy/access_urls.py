from django.urls import path

from privacy import access_views

app_name = "access_requests"
urlpatterns = [
    path(
        "learners/<int:learner_pk>/",
        access_views.access_request_create_view,
        name="create",
    ),
    path("<int:pk>/", access_views.access_request_detail, name="detail"),
    path("<int:pk>/download/", access_views.access_request_download_view, name="download"),
]
