"""Looking an address up for coordinates, behind one small interface so that the geocoder can
be changed: production speaks to a configurable HTTP geocoder with Nominatim's search API
(settings.GEOCODER_URL); tests run a fake one on loopback. A lookup either finds the address or
raises GeocodeFailed with a reason people can read: coordinates are never guessed."""

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Protocol

import httpx
from django.conf import settings


@dataclass(frozen=True)
class Coordinates:
    latitude: float
    longitude: float


class GeocodeFailed(Exception):
    """The address could not be looked up. `retry`: the geocoder was unreachable or failed (try
    later), rather than the address not being found."""

    def __init__(self, reason: str, *, retry: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class Geocoder(Protocol):
    def lookup(self, address: str) -> Coordinates: ...


# The most of an answer read: a lookup's answer is a few hundred bytes; more is not a geocoder.
MAX_ANSWER_BYTES = 256 * 1024


class HttpGeocoder:
    """GET `url`?q=<address>&format=jsonv2&limit=1, answered with a JSON list whose first item
    has "lat" and "lon" (strings or numbers); an empty list means not found.

    `timeout` bounds the whole lookup, not only each step (connect, each read): a geocoder that
    drips its answer slowly is given up on once the deadline passes, checked after each chunk,
    so a lookup takes at most about twice `timeout`. The answer is read streamed and refused
    beyond MAX_ANSWER_BYTES, so a huge body never reaches memory whole."""

    def __init__(self, url: str, *, api_key: str = "", timeout: float = 5.0) -> None:
        self.url = url
        self.api_key = api_key
        self.timeout = timeout

    def lookup(self, address: str) -> Coordinates:
        params = {"q": address, "format": "jsonv2", "limit": "1"}
        if self.api_key:
            params["key"] = self.api_key
        deadline = time.monotonic() + self.timeout
        try:
            with httpx.stream(
                "GET",
                self.url,
                params=params,
                timeout=self.timeout,
                # Unencoded, so that the bytes counted are the bytes kept (no gzip bomb).
                headers={"User-Agent": "Cohortly geocoder", "Accept-Encoding": "identity"},
            ) as response:
                if response.status_code >= 500 or response.status_code == 429:
                    raise GeocodeFailed(
                        f"The geocoder answered {response.status_code}.", retry=True
                    )
                if response.status_code != 200:
                    raise GeocodeFailed(
                        f"The geocoder refused the lookup ({response.status_code})."
                    )
                body = _body_read(response, deadline)
        except httpx.HTTPError as error:
            raise GeocodeFailed(
                f"The geocoder could not be reached ({type(error).__name__}).", retry=True
            ) from None
        try:
            results = json.loads(body)
            if not results:
                raise GeocodeFailed("The geocoder did not find this address.")
            first = results[0]
            found = Coordinates(float(first["lat"]), float(first["lon"]))
        except GeocodeFailed:
            raise
        except (ValueError, KeyError, TypeError, IndexError):
            raise GeocodeFailed("The geocoder's answer could not be read.", retry=True) from None
        if not (-90 <= found.latitude <= 90 and -180 <= found.longitude <= 180):
            raise GeocodeFailed("The geocoder gave coordinates outside the globe.")
        return found


def _body_read(response: httpx.Response, deadline: float) -> bytes:
    """The answer's body, read in chunks until MAX_ANSWER_BYTES or the deadline."""
    too_large = GeocodeFailed("The geocoder's answer was too large to read.", retry=True)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise too_large
        if time.monotonic() > deadline:
            raise GeocodeFailed("The geocoder took too long to answer.", retry=True)
        chunks.append(chunk)
    return b"".join(chunks)


def configured_geocoder() -> Geocoder | None:
    """The geocoder settings name, or None when none is configured (coordinates by hand)."""
    if not settings.GEOCODER_URL:
        return None
    return HttpGeocoder(
        settings.GEOCODER_URL,
        api_key=settings.GEOCODER_API_KEY,
        timeout=settings.GEOCODER_TIMEOUT_SECONDS,
    )


def address_hash(address: str) -> str:
    """What `Located.geocoded_address_hash` holds: the address normalised for comparison."""
    normalised = " ".join(address.lower().split())
    return hashlib.sha256(normalised.encode()).hexdigest()
