from django.urls import path

from academics import grading_views, views

app_name = "academics"
urlpatterns = [
    path("", views.programmes, name="programmes"),
    path("programmes/new/", views.programme_create, name="programme_create"),
    path("programmes/<int:pk>/", views.programme, name="programme"),
    path("programmes/<int:pk>/edit/", views.programme_edit, name="programme_edit"),
    path("programmes/<int:pk>/delete/", views.programme_delete, name="programme_delete"),
    path("programmes/<int:programme_pk>/courses/new/", views.course_create, name="course_create"),
    path("courses/<int:pk>/", views.course, name="course"),
    path("courses/<int:pk>/edit/", views.course_edit, name="course_edit"),
    path("courses/<int:pk>/delete/", views.course_delete, name="course_delete"),
    path("courses/<int:course_pk>/outcomes/new/", views.outcome_add, name="outcome_add"),
    path("outcomes/<int:pk>/edit/", views.outcome_edit, name="outcome_edit"),
    path("outcomes/<int:pk>/delete/", views.outcome_delete, name="outcome_delete"),
    path(
        "courses/<int:pk>/prerequisites/<int:prerequisite_pk>/remove/",
        views.prerequisite_remove,
        name="prerequisite_remove",
    ),
    path("faculties/", views.faculties, name="faculties"),
    path("faculties/new/", views.faculty_create, name="faculty_create"),
    path("faculties/<int:pk>/edit/", views.faculty_edit, name="faculty_edit"),
    path("faculties/<int:pk>/delete/", views.faculty_delete, name="faculty_delete"),
    path("departments/new/", views.department_create, name="department_create"),
    path("departments/<int:pk>/edit/", views.department_edit, name="department_edit"),
    path("departments/<int:pk>/delete/", views.department_delete, name="department_delete"),
    path("years/", views.years, name="years"),
    path("years/new/", views.year_create, name="year_create"),
    path("years/<int:pk>/edit/", views.year_edit, name="year_edit"),
    path("years/<int:pk>/delete/", views.year_delete, name="year_delete"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/current/", views.session_make_current, name="session_current"),
    path("sessions/<int:pk>/delete/", views.session_delete, name="session_delete"),
    path("closures/", views.closures, name="closures"),
    path("closures/new/", views.closure_create, name="closure_create"),
    path("closures/<int:pk>/edit/", views.closure_edit, name="closure_edit"),
    path("closures/<int:pk>/delete/", views.closure_delete, name="closure_delete"),
    path("import/", views.catalogue_import, name="import"),
    path("import/preview/", views.catalogue_import_preview, name="import_preview"),
    path("import/confirm/", views.catalogue_import_confirm, name="import_confirm"),
    path("import/template.<str:kind>", views.catalogue_import_template, name="import_template"),
    # Grading scales.
    path("grading/", grading_views.grading_scales, name="grading_scales"),
    path("grading/new/", grading_views.grading_scale_new, name="grading_scale_new"),
    path("grading/<int:pk>/", grading_views.grading_scale_edit, name="grading_scale_edit"),
    path(
        "grading/<int:pk>/default/",
        grading_views.grading_scale_default,
        name="grading_scale_default",
    ),
    path(
        "grading/<int:pk>/delete/", grading_views.grading_scale_remove, name="grading_scale_delete"
    ),
    path(
        "grading/programmes/<int:pk>/",
        grading_views.programme_grading_scale,
        name="programme_grading_scale",
    ),
]
