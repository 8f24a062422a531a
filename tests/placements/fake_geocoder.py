"""A geocoder on loopback that answers Nominatim's search API as placements.geocoding's
HttpGeocoder asks it (GET ?q=<address>&format=jsonv2&limit=1): the addresses it knows get their
coordinates, others an empty list. It can also answer 500 or hang, as a real one does on a bad
day, or (as a hostile or broken one might) send a huge answer or drip one out slowly. The
`geocoder` fixture starts it on a free port in a thread and points settings.GEOCODER_URL at
it."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from placements.geocoding import address_hash


@dataclass
class FakeGeocoder:
    url: str = ""
    # Address (as the app writes it, compared without case or extra spaces): (lat, lon).
    known: dict[str, tuple[float, float]] = field(default_factory=dict)
    # "answer", "error" (HTTP 500), "hang" (no answer until the test ends), "huge" (a found
    # answer padded to a megabyte, sent with no Content-Length) or "drip" (a found answer sent
    # a few bytes every tenth of a second, each read well inside the timeout).
    mode: str = "answer"
    asked: list[str] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def add(self, address: str, latitude: float, longitude: float) -> None:
        self.known[address_hash(address)] = (latitude, longitude)

    def answer(self, query: str) -> tuple[int, object]:
        self.asked.append(query)
        if self.mode == "error":
            return 500, {"error": "internal"}
        if self.mode == "hang":
            self.released.wait(30)
            return 504, {}
        found = self.known.get(address_hash(query))
        if found is None:
            return 200, []
        return 200, [{"lat": str(found[0]), "lon": str(found[1]), "display_name": query}]


def _handler(fake: FakeGeocoder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            params = parse_qs(urlparse(self.path).query)
            status, body = fake.answer(params.get("q", [""])[0])
            if fake.mode == "huge" and isinstance(body, list) and body:
                body[0]["padding"] = "x" * (1024 * 1024)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if fake.mode not in ("huge", "drip"):
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if fake.mode != "drip":
                self.wfile.write(payload)
                return
            for start in range(0, len(payload), 4):
                if fake.released.wait(0.1):
                    return
                self.wfile.write(payload[start : start + 4])
                self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read `asked` instead."""

    return Handler


@pytest.fixture
def geocoder(settings) -> Iterator[FakeGeocoder]:
    fake = FakeGeocoder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/search"
    settings.GEOCODER_URL = fake.url
    settings.GEOCODER_TIMEOUT_SECONDS = 1.0
    yield fake
    fake.released.set()
    server.shutdown()
    server.server_close()
    thread.join(5)
