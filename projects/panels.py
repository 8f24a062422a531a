"""What innovation projects add to other apps' pages: the cohort page's projects panel
(cohorts.panels), registered from ProjectsConfig.ready."""

from cohorts.panels import cohort_panel_register
from projects.selectors.cohort import cohort_projects_panel


def projects_cohort_panel_register() -> None:
    cohort_panel_register(
        "projects",
        template="projects/cohort/_panel.html",
        context=cohort_projects_panel,
        order=40,
    )
