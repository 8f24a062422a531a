"""The sponsor's pages reached without an account (under sponsor/), by e-mailed link."""

from django.urls import path

from sponsors import learner_views

app_name = "sponsor_public"

urlpatterns = [
    path("<str:token>/", learner_views.learner_agreements, name="learner_agreements"),
    path(
        "<str:token>/agreements/<int:pk>.pdf",
        learner_views.learner_agreement_document,
        name="learner_agreement_document",
    ),
]
