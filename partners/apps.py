from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The start page's panel: a contact's partner and its candidates; for who reads
        # partners, the bank details waiting for a second person.
        from accounts.home import home_panel_register
        from partners.selectors.home import partners_home_panel

        home_panel_register(
            "partners", template="partners/_home_panel.html", context=partners_home_panel, order=60
        )
