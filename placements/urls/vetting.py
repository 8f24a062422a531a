from django.urls import URLPattern, path

from placements.views import vetting as views

urlpatterns: list[URLPattern] = [
    path("vetting/", views.vetting_list, name="vetting_list"),
    path("vetting/types/", views.vetting_types, name="vetting_types"),
    path("vetting/types/<int:pk>/", views.vetting_type_edit, name="vetting_type_edit"),
    path("vetting/types/<int:pk>/active/", views.vetting_type_active, name="vetting_type_active"),
    path("vetting/<int:pk>/", views.vetting_detail, name="vetting_detail"),
    path("vetting/<int:pk>/start/", views.vetting_start, name="vetting_start"),
    path("vetting/<int:pk>/clear/", views.vetting_clear, name="vetting_clear"),
    path("vetting/<int:pk>/fail/", views.vetting_fail, name="vetting_fail"),
    path("vetting/<int:pk>/withdraw/", views.vetting_withdraw, name="vetting_withdraw"),
    path(
        "vetting/<int:pk>/evidence/",
        views.vetting_evidence_upload,
        name="vetting_evidence_upload",
    ),
    path(
        "vetting/<int:pk>/evidence/<int:evidence_pk>/",
        views.vetting_evidence_file,
        name="vetting_evidence_file",
    ),
    path("learners/<int:learner_pk>/vetting/", views.learner_vetting, name="learner_vetting"),
    path(
        "programmes/<int:programme_pk>/vetting/",
        views.programme_vetting,
        name="programme_vetting",
    ),
    path("my/vetting/", views.my_vetting, name="my_vetting"),
]
