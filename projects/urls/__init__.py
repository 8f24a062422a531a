"""Innovation projects' pages, one module per area: proposals (the form, submitting and
revising, the learner's own projects), review (criteria, panels, scoring and deciding), the team
(members and milestones) and staff's pages (the list, the project's overview and activity, the
portfolio)."""

from projects.urls import pages, proposals, review, team

app_name = "projects"

urlpatterns = [
    *pages.urlpatterns,
    *proposals.urlpatterns,
    *review.urlpatterns,
    *team.urlpatterns,
]
