"""The start page's panels. Each domain app registers its own in its AppConfig.ready (accounts
sits below them and never imports them): a selector that says what is waiting for a person, or
None when the panel is not for them, and the template partial that shows it."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.models import User

# A panel's reading for one person: the partial's context, or None (nothing for them).
PanelContext = Callable[[User], dict[str, Any] | None]


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    context: PanelContext
    order: int
    wide: bool  # the whole width of the page (a list), else a card among the others


@dataclass(frozen=True)
class ShownPanel:
    key: str
    template: str
    context: dict[str, Any]
    wide: bool


_panels: dict[str, HomePanel] = {}


def home_panel_register(
    key: str, *, template: str, context: PanelContext, order: int = 100, wide: bool = False
) -> None:
    """Add a panel to everyone's start page (shown to those for whom `context` answers);
    panels appear by `order`, then key. Registering a key again replaces its panel."""
    _panels[key] = HomePanel(key, template, context, order, wide)


def home_panels_for(user: User) -> list[ShownPanel]:
    """The panels with something for `user`, in order, each with its partial's context."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda panel: (panel.order, panel.key)):
        context = panel.context(user)
        if context is not None:
            shown.append(ShownPanel(panel.key, panel.template, context, panel.wide))
    return shown
