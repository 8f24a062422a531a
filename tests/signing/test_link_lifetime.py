"""A signing link lasts as many days as its institution says (14 unless it changed that)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from signing.selectors import link_for_token
from signing.services.completion import submitter_open
from tests.signing.conftest import last_link_to

pytestmark = pytest.mark.django_db


def _first_link(submission):
    return link_for_token(last_link_to(submission.submitters.get(order=1).email))


def test_a_link_lasts_fourteen_days_unless_the_institution_says_otherwise(
    institution, make_submission
):
    assert institution.signing_link_days == 14
    sent = timezone.now()
    link = _first_link(make_submission())
    lasts = link.expires_at - sent
    assert datetime.timedelta(days=14) <= lasts < datetime.timedelta(days=14, minutes=1)


def test_a_link_of_an_institution_with_three_days_expires_after_three_days(
    institution, make_submission, monkeypatch
):
    institution.signing_link_days = 3
    institution.save(update_fields=["signing_link_days"])
    sent = timezone.now()
    link = _first_link(make_submission())
    real_now = timezone.now

    monkeypatch.setattr(timezone, "now", lambda: sent + datetime.timedelta(days=3, minutes=-1))
    assert link.state == "usable"
    monkeypatch.setattr(timezone, "now", lambda: real_now() + datetime.timedelta(days=3))
    assert link.state == "expired"
    with pytest.raises(PermissionDenied):
        submitter_open(link=link)
