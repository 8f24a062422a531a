from django.urls import path

from cohorts import views

app_name = "cohorts"

urlpatterns = [
    path("", views.cohort_list, name="list"),
    path("new/", views.cohort_create_view, name="create"),
    path("documents/", views.document_types, name="document_types"),
    path("documents/new/", views.document_type_edit, name="document_type_create"),
    path("documents/<int:pk>/", views.document_type_edit, name="document_type_edit"),
    path("<int:pk>/", views.cohort_dashboard, name="dashboard"),
    path("<int:pk>/edit/", views.cohort_edit, name="edit"),
    path("<int:pk>/sign/", views.cohort_sign, name="sign"),
    path("<int:pk>/activate/", views.cohort_activate_view, name="activate"),
    path("<int:pk>/complete/", views.cohort_complete_view, name="complete"),
    path("<int:pk>/cancel/", views.cohort_cancel_view, name="cancel"),
    path("<int:pk>/reviewers/", views.cohort_reviewers, name="reviewers"),
    path(
        "<int:pk>/responsible-admins/",
        views.cohort_responsible_admins,
        name="responsible_admins",
    ),
    path("<int:pk>/students/invite/", views.student_invite, name="student_invite"),
    path(
        "<int:pk>/students/<int:enrollment_pk>/withdraw/",
        views.student_withdraw,
        name="student_withdraw",
    ),
    path(
        "<int:pk>/students/<int:enrollment_pk>/resend/",
        views.student_resend,
        name="student_resend",
    ),
]
