"""What a person is told about the sign-in lock: a warning before the attempt that would lock
their account, and, once locked, for how long and until when."""

import re
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.security import duration_text
from tenants.models import Institution
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WARNING = "One more failed attempt locks this account for"


@pytest.fixture
def ip() -> str:
    """An address of the test's own: axes counts failures per address and network."""
    return "10." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(3))


def _fail(client, email: str, ip: str):
    return client.post(LOGIN, {"username": email, "password": "wrong"}, REMOTE_ADDR=ip)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(seconds=20), "1 minute"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=2, minutes=30), "2 hours and 30 minutes"),
        (timedelta(days=1), "24 hours"),
    ],
)
def test_a_lock_length_reads_as_words(delta, text):
    assert duration_text(delta) == text


def test_the_attempt_before_the_last_warns_how_long_the_lock_lasts(
    institution, client_for, settings, ip
):
    UserFactory(email="warned@example.org")
    client = client_for(institution)
    for _ in range(settings.AXES_FAILURE_LIMIT - 2):
        assert WARNING not in _fail(client, "warned@example.org", ip).content.decode()

    page = _fail(client, "warned@example.org", ip).content.decode()
    assert "One more failed attempt locks this account for 15 minutes." in page
    assert "do not match an account here" in page  # the error itself is still there


def test_the_warning_follows_the_configured_lock(institution, client_for, settings, ip):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(hours=1, minutes=30)
    UserFactory(email="longer@example.org")
    page = _fail(client_for(institution), "longer@example.org", ip).content.decode()
    assert "One more failed attempt locks this account for 1 hour and 30 minutes." in page


def test_no_warning_for_a_form_that_was_not_an_attempt(institution, client_for, settings, ip):
    client = client_for(institution)
    UserFactory(email="typo@example.org")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _fail(client, "typo@example.org", ip)
    assert WARNING not in client.get(LOGIN).content.decode()
    # Another network has its own count.
    assert WARNING not in _fail(client, "typo@example.org", "192.0.2.77").content.decode()


def test_the_lock_out_page_says_how_long_and_until_when(institution, client_for, settings, ip):
    UserFactory(email="locked@example.org")
    client = client_for(institution)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _fail(client, "locked@example.org", ip)

    before = timezone.now()
    response = _fail(client, "locked@example.org", ip)
    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in page
    end = re.search(r"paused for 15 minutes, until (\d\d:\d\d) SAST\.", page)
    assert end is not None, page
    expected = (before + timedelta(minutes=15)).astimezone(ZoneInfo("Africa/Johannesburg"))
    assert end.group(1) in {f"{expected:%H:%M}", f"{expected + timedelta(minutes=1):%H:%M}"}
    assert "Each attempt before then starts the 15 minutes again." in page


def test_the_lock_out_page_gives_the_end_in_the_institutions_zone(
    institution, client_for, settings, ip
):
    Institution.objects.filter(pk=institution.pk).update(time_zone="Asia/Tokyo")
    settings.AXES_FAILURE_LIMIT = 1
    UserFactory(email="tokyo@example.org")
    page = _fail(client_for(institution), "tokyo@example.org", ip).content.decode()
    assert re.search(r"paused for 15 minutes, until \d\d:\d\d JST\.", page), page
