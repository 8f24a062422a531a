from django.urls import path

from learners import views

app_name = "learners"

urlpatterns = [
    path("", views.learner_list, name="list"),
    path("new/", views.learner_create_view, name="create"),
    path("find/", views.learner_find, name="find"),
    path("<int:pk>/", views.learner_detail, name="detail"),
    path("<int:pk>/edit/", views.learner_edit, name="edit"),
    path("<int:pk>/national-id/", views.national_id_show, name="national_id"),
    path("<int:pk>/merge/", views.merge_choose, name="merge"),
    path("<int:pk>/merge/<int:other_pk>/", views.merge_preview, name="merge_preview"),
]
