from django.apps import AppConfig


class CohortlyConfig(AppConfig):
    """The project's own checks (config.checks); no models."""

    name = "config"
    label = "cohortly"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the checks)
