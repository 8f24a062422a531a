"""The cohort page's panels from the apps built on cohorts (enrolments, delivery), which register
them in their AppConfig.ready: cohorts sits below them and never imports them. A panel is a
selector that gives its partial's context for a cohort and a person, or None when it has nothing
for them, and the template partial that shows it (the home page's panels, accounts.home, work
the same way)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.models import User
from cohorts.models import Cohort

# A panel's reading of one cohort for one person: the partial's context, or None.
CohortPanelContext = Callable[[Cohort, User], dict[str, Any] | None]


@dataclass(frozen=True)
class CohortPanel:
    key: str
    template: str
    context: CohortPanelContext
    order: int


@dataclass(frozen=True)
class ShownCohortPanel:
    key: str
    template: str
    context: dict[str, Any]


_panels: dict[str, CohortPanel] = {}


def cohort_panel_register(
    key: str, *, template: str, context: CohortPanelContext, order: int = 100
) -> None:
    """Add a panel to the cohort page (shown where `context` answers); panels appear by
    `order`, then key. Registering a key again replaces its panel."""
    _panels[key] = CohortPanel(key, template, context, order)


def cohort_panels_for(cohort: Cohort, user: User) -> list[ShownCohortPanel]:
    """The panels with something for `user` about `cohort`, in order, with their contexts."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda panel: (panel.order, panel.key)):
        context = panel.context(cohort, user)
        if context is not None:
            shown.append(ShownCohortPanel(panel.key, panel.template, context))
    return shown
