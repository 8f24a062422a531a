from django.urls import path

from delivery.views import results

urlpatterns = [
    path("results/", results.results_runs, name="results"),
    path("runs/<int:pk>/results/", results.gradebook, name="gradebook"),
    path(
        "runs/<int:pk>/results/<int:enrolment_pk>/",
        results.gradebook_learner,
        name="gradebook_learner",
    ),
    path("results/<int:pk>/void/", results.result_void, name="result_void"),
    path(
        "results/<int:pk>/void-moderated/",
        results.moderated_void,
        name="moderated_result_void",
    ),
    path("runs/<int:pk>/moderation/", results.moderation, name="moderation"),
    path("runs/<int:pk>/moderator/", results.run_moderator, name="run_moderator"),
    path("cohorts/<int:pk>/outcomes/", results.cohort_outcomes, name="cohort_outcomes"),
    path("outcomes/<int:pk>/", results.outcome_record, name="outcome_record"),
    path("my/results/", results.my_results, name="my_results"),
]
