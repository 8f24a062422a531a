from django.urls import URLPattern, path

from academics import grading_views

app_name = "academics"
urlpatterns: list[URLPattern] = [
    # Grading scales (the results area).
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
