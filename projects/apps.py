from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Innovation projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The start page's panel: proposals waiting for managers and reviewers, delayed
        # milestones, and a project's people's own projects that need them.
        from accounts.home import home_panel_register
        from projects.panels import projects_cohort_panel_register
        from projects.selectors.home import projects_home_panel

        home_panel_register(
            "projects",
            template="projects/pages/_home_panel.html",
            context=projects_home_panel,
            order=35,
        )
        # The cohort page's panel: the cohort's projects and their delayed milestones.
        projects_cohort_panel_register()
