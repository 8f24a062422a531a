from datetime import timedelta

from django.utils import timezone

from tenants.templatetags.moments import ago


def test_under_a_minute_ago_reads_just_now():
    assert ago(timezone.now() - timedelta(seconds=20)) == "just now"


def test_older_moments_say_how_long_ago():
    assert ago(timezone.now() - timedelta(hours=3, minutes=5)) == "3\xa0hours, 5\xa0minutes ago"
