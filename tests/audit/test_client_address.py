"""Behind reverse proxies, the client's address is the one the proxies recorded, counted from
the right; a client's own X-Forwarded-For entries are never believed."""

import pytest
from django.test import RequestFactory

from audit.middleware import ClientAddressMiddleware


def _client_address(settings, proxies: int, **meta) -> str:
    settings.TRUSTED_PROXIES = proxies
    seen = {}

    def view(request):
        seen["address"] = request.META["REMOTE_ADDR"]

    ClientAddressMiddleware(view)(RequestFactory().get("/", **meta))
    return seen["address"]


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "client"),
    [
        (0, "198.51.100.7", "10.0.0.2"),  # no proxy configured: the header is anyone's to write
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client wrote 6.6.6.6 itself
        (2, "6.6.6.6, 198.51.100.7, 192.0.2.10", "198.51.100.7"),  # a CDN, then our proxy
    ],
)
def test_the_client_is_counted_from_the_right(settings, proxies, forwarded_for, client):
    address = _client_address(
        settings, proxies, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for
    )
    assert address == client


def test_a_request_that_bypassed_the_proxy_keeps_its_own_address(settings):
    assert _client_address(settings, 1, REMOTE_ADDR="10.0.0.2") == "10.0.0.2"


@pytest.mark.parametrize(
    "forwarded_for",
    [
        '9.9.9.9, ", 198.51.100.7',  # a quote that would swallow our proxy's entry
        "9.9.9.9, not-an-address",
        "198.51.100.7",  # fewer entries than proxies
    ],
)
def test_a_header_that_is_not_what_our_proxies_write_is_not_believed(settings, forwarded_for):
    address = _client_address(
        settings, 2, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for
    )
    assert address == "10.0.0.2"
