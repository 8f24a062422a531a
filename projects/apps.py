from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Innovation projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from projects.panels import projects_cohort_panel_register

        projects_cohort_panel_register()
