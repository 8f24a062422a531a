from django.urls import path

from delivery.views import attendance

urlpatterns = [
    path("registers/", attendance.registers, name="registers"),
    path("sessions/<int:pk>/register/", attendance.register, name="register"),
    path("my/attendance/", attendance.my_attendance, name="my_attendance"),
    path(
        "cohorts/<int:pk>/attendance/",
        attendance.cohort_attendance_view,
        name="cohort_attendance",
    ),
    path("attendance/threshold/", attendance.threshold, name="attendance_threshold"),
]
