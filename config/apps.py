from django.apps import AppConfig


class CohortlyConfig(AppConfig):
    """The project's own checks (config.checks) and the wiring that only the top of the layers
    may do (what the operator's institution page reads from the apps above tenants); no models."""

    name = "config"
    label = "cohortly"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the checks)
        from config.institution_facts import readers_register

        readers_register()
