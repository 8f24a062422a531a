"""Trainers, course runs, sessions, calendars and calendar feeds."""

from django.urls import path

from delivery.views import feeds, runs, sessions, trainers

urlpatterns = [
    path("", runs.home, name="home"),
    path("trainers/", trainers.trainers, name="trainers"),
    path("trainers/new/", trainers.trainer_form, name="trainer_create"),
    path("trainers/<int:pk>/", trainers.trainer_detail, name="trainer"),
    path("trainers/<int:pk>/edit/", trainers.trainer_form, name="trainer_edit"),
    path("cohorts/<int:pk>/", runs.cohort_delivery, name="cohort"),
    path("cohorts/<int:pk>/runs/", runs.cohort_runs_create_view, name="cohort_runs_create"),
    path("runs/<int:pk>/", runs.run_detail, name="run"),
    path("runs/<int:pk>/edit/", runs.run_edit, name="run_edit"),
    path("runs/<int:pk>/enrol/", runs.run_enrol, name="run_enrol"),
    path("runs/<int:pk>/cancel/", runs.run_cancel_view, name="run_cancel"),
    path(
        "runs/<int:pk>/learners/<int:enrolment_pk>/drop/",
        runs.run_learner_drop_view,
        name="run_learner_drop",
    ),
    path("runs/<int:pk>/sessions/new/", sessions.session_add_view, name="session_add"),
    path("runs/<int:pk>/schedule/", sessions.session_schedule, name="session_schedule"),
    path("sessions/<int:pk>/move/", sessions.session_move_view, name="session_move"),
    path("sessions/<int:pk>/cancel/", sessions.session_cancel_view, name="session_cancel"),
    path("my/schedule/", sessions.my_schedule, name="my_schedule"),
    path("feeds/<str:owner>/new/", feeds.feed_issue, name="feed_issue"),
    path("feeds/<str:owner>/revoke/", feeds.feed_revoke, name="feed_revoke"),
    path("feeds/<str:token>.ics", feeds.feed, name="feed"),
]
