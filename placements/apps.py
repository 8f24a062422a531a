from django.apps import AppConfig


class PlacementsConfig(AppConfig):
    name = "placements"
    verbose_name = "Placements"

    def ready(self) -> None:
        # Organisation members' start page: the organisation they act for and the placement
        # preferences it still owes.
        from accounts.home import home_panel_register
        from placements.selectors.members import member_home_panel

        home_panel_register(
            "organisation_member",
            template="placements/members/_home_panel.html",
            context=member_home_panel,
            order=20,
        )
