from django.urls import path

from enrolments import export_views

app_name = "cohort_export"

urlpatterns = [
    path(
        "students.<str:file_format>",
        export_views.cohort_students_export_view,
        name="students",
    ),
]
