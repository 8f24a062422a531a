"""Portfolios of evidence, their assessment, and the mentor's observation reports."""

from django.urls import URLPattern, path

from workplace.views import assessing, observations, portfolios

urlpatterns: list[URLPattern] = [
    path("portfolios/", portfolios.my_portfolios, name="my_portfolios"),
    path(
        "portfolios/open/<int:course_enrollment_pk>/<int:outcome_pk>/",
        portfolios.portfolio_open_view,
        name="portfolio_open",
    ),
    path("portfolios/<int:pk>/", portfolios.portfolio_detail, name="portfolio"),
    path(
        "portfolios/<int:pk>/evidence/",
        portfolios.portfolio_evidence_add,
        name="portfolio_evidence_add",
    ),
    path(
        "portfolios/<int:pk>/evidence/<int:evidence_pk>/remove/",
        portfolios.portfolio_evidence_remove,
        name="portfolio_evidence_remove",
    ),
    path(
        "portfolios/evidence/<int:evidence_pk>/file/",
        portfolios.portfolio_evidence_file,
        name="portfolio_evidence_file",
    ),
    path("portfolios/<int:pk>/submit/", portfolios.portfolio_submit_view, name="portfolio_submit"),
    path("portfolios/<int:pk>/reopen/", portfolios.portfolio_reopen_view, name="portfolio_reopen"),
    path("assessing/", assessing.assess_queue, name="assess_queue"),
    path("assessing/<int:pk>/", assessing.portfolio_assess_view, name="portfolio_assess"),
    path(
        "placements/<int:placement_pk>/observations/new/",
        observations.observation_add_view,
        name="observation_add",
    ),
    path("observations/<int:pk>/", observations.observation_detail, name="observation"),
]
