"""The start page's Teaching panel: what waits for a trainer and a moderator."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from tests.factories import CourseRunFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _panel(client) -> str:
    text = client.get(reverse("home")).content.decode()
    return text[text.index('data-panel="delivery"') :] if 'data-panel="delivery"' in text else ""


def test_a_trainer_sees_the_registers_left_to_take(institution, client_of):
    run = CourseRunFactory()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    SessionFactory(course_run=run, session_date=yesterday)
    SessionFactory(course_run=run, session_date=yesterday - datetime.timedelta(days=7))
    panel = _panel(client_of(run.trainer.user))
    assert 'data-count="home-registers">2<' in panel
    assert reverse("delivery:registers") in panel


def test_a_moderator_sees_the_runs_to_moderate(institution, client_of):
    moderator = UserFactory(roles=[SystemRole.MODERATOR])
    CourseRunFactory(moderator=moderator)
    CourseRunFactory(moderator=moderator, moderated_at=timezone.now(), moderated_by=moderator)
    panel = _panel(client_of(moderator))
    assert 'data-count="home-moderate">1<' in panel


@pytest.mark.parametrize("role", [SystemRole.ADMIN, SystemRole.STUDENT, SystemRole.VERIFIER])
def test_the_panel_is_not_for_others(institution, client_of, role):
    assert _panel(client_of(UserFactory(roles=[role]))) == ""
