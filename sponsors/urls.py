from django.urls import path

from sponsors import learner_views, views

app_name = "sponsors"

urlpatterns = [
    path("", views.sponsor_list_view, name="list"),
    path("new/", views.sponsor_edit, name="create"),
    path("<int:pk>/", views.sponsor_detail, name="detail"),
    path("<int:pk>/edit/", views.sponsor_edit, name="edit"),
    path("cohort/<int:cohort_pk>/set/", views.cohort_sponsor_set_view, name="cohort_set"),
    path("cohort/<int:cohort_pk>/invite/", views.sponsor_invite_view, name="cohort_invite"),
    path("cohort/<int:cohort_pk>/revoke/", views.sponsor_invite_revoke_view, name="cohort_revoke"),
    path(
        "cohort/<int:cohort_pk>/learner-agreements/",
        learner_views.learner_agreements_invite_view,
        name="learner_agreements_invite",
    ),
]
