"""Staff's list and portfolio, and a project's Overview and Activity tabs."""

from django.urls import path

from projects.views import pages

urlpatterns = [
    path("", pages.project_list_view, name="list"),
    path("portfolio/", pages.portfolio_view, name="portfolio"),
    path("<int:pk>/", pages.project_overview, name="project"),
    path("<int:pk>/activity/", pages.project_activity_view, name="activity"),
]
