from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from accounts.home import home_panel_register
        from audit import signals  # noqa: F401  (connects the sign-in and Celery receivers)
        from audit.home import audit_home_panel

        home_panel_register(
            "audit", template="audit/_home_events.html", context=audit_home_panel, order=30
        )
