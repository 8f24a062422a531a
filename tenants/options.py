"""Institution settings whose choices belong to another app (the consents the institution asks
students for come from learners): the app registers the setting in its AppConfig.ready, the
settings page shows it as checkboxes, and institution_profile_update stores the chosen values
as a list in Institution.settings under the setting's key. tenants imports no domain app."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChoicesSetting:
    """A setting the super admin answers by ticking some of `choices` (values, labels).
    `always`: values that are chosen whatever is ticked, left out of the checkboxes (the help
    text says so)."""

    key: str
    section: str
    label: str
    help_text: str
    choices: Callable[[], list[tuple[str, str]]]
    always: frozenset[str] = field(default_factory=frozenset)

    def offered(self) -> list[tuple[str, str]]:
        return [(value, label) for value, label in self.choices() if value not in self.always]


_registered: dict[str, ChoicesSetting] = {}


def register(setting: ChoicesSetting) -> None:
    """Add a setting to the settings page; registering the same key again replaces it (an app
    registry set up twice)."""
    _registered[setting.key] = setting


def choices_settings() -> list[ChoicesSetting]:
    return list(_registered.values())
