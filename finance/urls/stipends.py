"""Learners' stipends: rates, learners' bank details and the monthly runs."""

from django.urls import URLPattern, path

from finance.views import stipends as views

urlpatterns: list[URLPattern] = [
    path("stipends/rates/", views.stipend_rates, name="stipend_rates"),
    path("stipends/rates/new/", views.stipend_rate_add_view, name="stipend_rate_add"),
    path(
        "stipends/learners/<int:learner_pk>/bank/",
        views.learner_bank_view,
        name="learner_bank",
    ),
    path("stipends/runs/", views.stipend_runs, name="stipend_runs"),
    path("stipends/runs/new/", views.stipend_run_create, name="stipend_run_create"),
    path("stipends/runs/<int:pk>/", views.stipend_run, name="stipend_run"),
    path(
        "stipends/runs/<int:pk>/recalculate/",
        views.stipend_run_recalculate_view,
        name="stipend_run_recalculate",
    ),
    path(
        "stipends/runs/<int:pk>/approve/",
        views.stipend_run_approve_view,
        name="stipend_run_approve",
    ),
    path(
        "stipends/runs/<int:pk>/bank-file/",
        views.stipend_run_bank_file,
        name="stipend_run_bank_file",
    ),
    path(
        "stipends/runs/<int:pk>/mark-paid/",
        views.stipend_run_mark_paid_view,
        name="stipend_run_mark_paid",
    ),
    path(
        "stipends/runs/<int:pk>/cancel/",
        views.stipend_run_cancel_view,
        name="stipend_run_cancel",
    ),
]
