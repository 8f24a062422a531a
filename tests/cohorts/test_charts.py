"""The cohort page's panels (cohorts.panels): the apps above cohorts add theirs, in order, and a
panel with nothing for the person is left out."""

import pytest

from cohorts import panels
from tests.factories import CohortFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(monkeypatch) -> dict:
    """The registry as the apps left it, restored after the test."""
    kept = dict(panels._panels)
    monkeypatch.setattr(panels, "_panels", kept)
    return kept


def test_registered_panels_show_in_order_and_only_where_they_answer(registry, admin):
    cohort = CohortFactory(active=True, name="Welding 2027")
    panels.cohort_panel_register(
        "late", template="cohorts/_panels.html", context=lambda c, u: {"n": 2}, order=999
    )
    panels.cohort_panel_register(
        "silent", template="cohorts/_panels.html", context=lambda c, u: None, order=0
    )

    shown = panels.cohort_panels_for(cohort, admin)

    keys = [panel.key for panel in shown]
    assert keys[:2] == ["progress", "attendance"]
    assert keys[-1] == "late"
    assert "silent" not in keys


def test_cohort_page_shows_the_panels_of_enrolments_and_delivery(admin_client):
    cohort = CohortFactory(active=True)

    page = admin_client.get(cohort.get_absolute_url()).content.decode()

    assert 'data-panel="progress"' in page
    assert 'data-panel="attendance"' in page
    assert page.index('data-panel="progress"') < page.index('data-panel="attendance"')
