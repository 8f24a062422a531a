"""A fake training gateway for tests and the sync benchmark: a real HTTP server on loopback
(stdlib, in a thread) that speaks the training-gateway connector's protocol (AES-256-CBC
payloads, API key header, idempotency key) and can be told how to misbehave.

    gateway = FakeGateway().start()
    gateway.will("error_500", times=2)      # the next two requests fail
    gateway.will("timeout", seconds=2)       # answer after 2 s, without processing
    gateway.failure_ratio = 0.1              # then 10% of requests fail with 500
    ...
    gateway.stop()

Behaviours: ok, slow (answers late but processes), error_500, timeout (never processes; answers
504 too late), validation (400 with a message), quoting (422 quoting what it was sent, as some
gateways do), duplicate (409 naming the request's own key), lost_response (processes, then
answers 500 as if the response was lost on the way)."""

import base64
import itertools
import json
import os
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from integrations.crypto import PayloadDecryptionError, gateway_decrypt, gateway_encrypt

BEHAVIOURS = (
    "ok",
    "slow",
    "error_500",
    "timeout",
    "validation",
    "quoting",
    "duplicate",
    "lost_response",
)


@dataclass
class Submission:
    path: str
    idempotency_key: str
    payload: Any
    behaviour: str
    received_at: float = field(default_factory=time.monotonic)


class FakeGateway:
    def __init__(
        self, *, api_key: str = "test-api-key", encryption_key: str | None = None, seed: int = 7
    ) -> None:
        self.api_key = api_key
        self.encryption_key = encryption_key or base64.b64encode(os.urandom(32)).decode()
        self.failure_ratio = 0.0
        self.slow_seconds = 0.5
        self._random = random.Random(seed)  # noqa: S311 - injected failures, not secrets
        self._lock = threading.Lock()
        self._behaviours: deque[tuple[str, float]] = deque()
        self._numbers = itertools.count(1)
        self.submissions: list[Submission] = []
        self.accepted: dict[str, str] = {}  # idempotency key -> reference
        self.processed: Counter[str] = Counter()  # requests that reached processing, per key
        self._server: ThreadingHTTPServer | None = None

    # --- Control ------------------------------------------------------------------------

    def will(self, behaviour: str, *, times: int = 1, seconds: float = 0.0) -> None:
        """Answer the next `times` requests with `behaviour`."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        with self._lock:
            self._behaviours.extend([(behaviour, seconds)] * times)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the gateway first"
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key, "encryption_key": self.encryption_key}

    def seen_twice(self) -> int:
        """Submissions (idempotency keys) that reached processing more than once."""
        with self._lock:
            return sum(1 for count in self.processed.values() if count > 1)

    def requests_for(self, idempotency_key: str) -> list[Submission]:
        with self._lock:
            return [item for item in self.submissions if item.idempotency_key == idempotency_key]

    # --- Serving ------------------------------------------------------------------------

    def start(self) -> "FakeGateway":
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                gateway._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeGateway":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def _answer(self, handler: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        try:
            text = gateway_encrypt(body, key_b64=self.encryption_key).encode()
            handler.send_response(status)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(text)))
            handler.end_headers()
            handler.wfile.write(text)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a time-out)

    def _next_behaviour(self) -> tuple[str, float]:
        with self._lock:
            if self._behaviours:
                return self._behaviours.popleft()
            if self.failure_ratio and self._random.random() < self.failure_ratio:
                return "error_500", 0.0
        return "ok", 0.0

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        if handler.headers.get("x-api-key") != self.api_key:
            self._answer(
                handler, 401, {"error": {"code": "UNAUTHORISED", "message": "Bad API key."}}
            )
            return
        try:
            payload = gateway_decrypt(raw, key_b64=self.encryption_key)
        except PayloadDecryptionError:
            self._answer(
                handler,
                400,
                {"error": {"code": "DECRYPTION", "message": "Cannot decrypt the payload."}},
            )
            return
        key = handler.headers.get("Idempotency-Key", "")
        behaviour, seconds = self._next_behaviour()
        with self._lock:
            self.submissions.append(Submission(handler.path, key, payload, behaviour))
        if behaviour == "error_500":
            self._answer(
                handler, 500, {"error": {"code": "INTERNAL", "message": "Internal error."}}
            )
            return
        if behaviour == "timeout":
            time.sleep(seconds or 5.0)
            self._answer(handler, 504, {"error": {"code": "TIMEOUT", "message": "Too slow."}})
            return
        if behaviour == "validation":
            self._answer(
                handler,
                400,
                {
                    "error": {
                        "code": "VALIDATION",
                        "message": "Course run dates are invalid.",
                        "details": ["courseDates.end: must be after the start date"],
                    }
                },
            )
            return
        if behaviour == "quoting":
            quoted = json.dumps(payload, sort_keys=True)
            self._answer(
                handler,
                422,
                {
                    "error": {
                        "code": "VALIDATION",
                        "message": f"Not a valid submission: {quoted}",
                        "details": [f"request: {quoted}"],
                    },
                    "request": payload,
                },
            )
            return
        if behaviour == "slow":
            time.sleep(seconds or self.slow_seconds)
        with self._lock:
            self.processed[key] += 1
            reference = self.accepted.get(key)
            duplicate = reference is not None or behaviour == "duplicate"
            if reference is None:
                reference = self._reference(handler.path)
                self.accepted[key] = reference
        if behaviour == "lost_response":
            self._answer(handler, 500, {"error": {"code": "INTERNAL", "message": "Lost."}})
        elif duplicate:
            self._answer(
                handler,
                409,
                {
                    "error": {
                        "code": "DUPLICATE",
                        "message": "Already submitted.",
                        "idempotencyKey": key,
                        "reference": reference,
                    }
                },
            )
        else:
            self._answer(handler, 200, {"status": 200, "data": {"reference": reference}})

    def _reference(self, path: str) -> str:
        number = next(self._numbers)
        if path == "/courses/runs":
            return f"RUN-{number:06d}"
        if path == "/tpg/enrolments":
            return f"ENR-{number:06d}"
        return path.rstrip("/").rsplit("/", 1)[-1]  # an update or cancellation keeps its ref
