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
answers 500 as if the response was lost on the way).

Like the real gateway it keeps what it accepted: each record (a course run, an enrolment, an
attendance record, an assessment) under the reference it gave it, at the version last accepted
(`syncVersion` in the payload); an older version is refused with 409 STALE_VERSION. A run and
the records that belong to it are served by GET /courses/runs/{reference}/records, for
reconciliation. Tests change what it holds with `alter`, `forget` and `plant`."""

import base64
import itertools
import json
import os
import random
import sys
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


# Where each kind of record is created at the gateway; its changes go to `<path>/details/<ref>`
# (a run's to `/courses/runs/<ref>`).
CREATE_PATHS = {
    "/courses/runs": "run",
    "/tpg/enrolments": "enrolment",
    "/tpg/attendance": "attendance",
    "/tpg/assessments": "assessment",
}
PAYLOAD_KEYS = {
    "run": "course",
    "enrolment": "enrolment",
    "attendance": "attendance",
    "assessment": "assessment",
}
LISTS = {"enrolment": "enrolments", "attendance": "attendance", "assessment": "assessments"}


@dataclass
class GatewayRecord:
    """A record as the gateway holds it: the last accepted body, at its version."""

    kind: str
    reference: str  # the provider's own reference (run-12)
    gateway_reference: str
    version: int
    body: dict[str, Any]
    status: str = "active"  # active, cancelled or void
    run: str = ""  # the gateway reference of the run it belongs to

    def view(self) -> dict[str, Any]:
        return {
            **self.body,
            "reference": self.reference,
            "gatewayReference": self.gateway_reference,
            "syncVersion": self.version,
            "gatewayStatus": self.status,
        }


@dataclass
class Submission:
    path: str
    idempotency_key: str
    payload: Any
    behaviour: str
    received_at: float = field(default_factory=time.monotonic)


class _QuietOnHangUpServer(ThreadingHTTPServer):
    """A client that hangs up mid-request (a worker timed out or was killed) is what a server
    sees every day: no traceback for it. Every other error in a handler is still printed."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # reset, broken pipe, aborted
            return
        super().handle_error(request, client_address)


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
        self.records: dict[str, GatewayRecord] = {}  # by gateway reference
        self.stale_refusals = 0
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

    def record(self, kind: str, reference: str) -> GatewayRecord | None:
        """What the gateway holds of the provider's record `reference` (run-12), or None."""
        with self._lock:
            return self._find(kind, reference)

    def alter(self, kind: str, reference: str, **fields: Any) -> None:
        """Change what the gateway holds of a record, as if changed at its end."""
        with self._lock:
            found = self._find(kind, reference)
            assert found is not None, f"the gateway holds no {kind} {reference}"
            found.body.update(fields)

    def forget(self, kind: str, reference: str) -> None:
        """Lose a record, as if the gateway never had it."""
        with self._lock:
            found = self._find(kind, reference)
            assert found is not None, f"the gateway holds no {kind} {reference}"
            del self.records[found.gateway_reference]

    def plant(self, kind: str, reference: str, *, run: str, body: dict[str, Any]) -> str:
        """A record only the gateway has (entered at its end), under the run with gateway
        reference `run`. Returns its gateway reference."""
        with self._lock:
            gateway_reference = self._reference(kind)
            self.records[gateway_reference] = GatewayRecord(
                kind, reference, gateway_reference, 1, dict(body), run=run
            )
            return gateway_reference

    def _find(self, kind: str, reference: str) -> GatewayRecord | None:
        for item in self.records.values():
            if item.kind == kind and item.reference == reference:
                return item
        return None

    # --- Serving ------------------------------------------------------------------------

    def start(self) -> "FakeGateway":
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                gateway._handle(self)

            def do_GET(self) -> None:
                gateway._retrieve(self)

        Handler.protocol_version = "HTTP/1.1"  # keep-alive, as a real gateway's front does
        # Headers and body go out as two writes: without TCP_NODELAY the body waits for the
        # client's delayed acknowledgement of the headers (40 ms a request on Linux).
        Handler.disable_nagle_algorithm = True
        self._server = _QuietOnHangUpServer(("127.0.0.1", 0), Handler)
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
            reference = self.accepted.get(key)
            duplicate = reference is not None or behaviour == "duplicate"
            if reference is None:
                try:
                    reference = self._apply(handler.path, payload)
                except LookupError as error:
                    refusal: tuple[int, str, str] | None = (404, "NOT_FOUND", str(error))
                except _Stale as error:
                    refusal = (409, "STALE_VERSION", str(error))
                    self.stale_refusals += 1
                else:
                    refusal = None
                    self.accepted[key] = reference
                if refusal is not None:
                    status, code, message = refusal
                    self._answer(handler, status, {"error": {"code": code, "message": message}})
                    return
            self.processed[key] += 1
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

    def _reference(self, kind: str) -> str:
        number = next(self._numbers)
        return f"{kind[:3].upper()}-{number:06d}"

    def _apply(self, path: str, payload: Any) -> str:
        """Keep what a submission says (under the lock); its record's gateway reference.
        Raises LookupError for a change of a record the gateway does not hold, _Stale for a
        version older than the one it holds."""
        path = path.rstrip("/")
        version = int(payload.get("syncVersion") or 0) if isinstance(payload, dict) else 0
        kind = CREATE_PATHS.get(path)
        if kind is not None:
            body = self._body(kind, payload)
            reference = str(body.get("reference", ""))
            found = self._find(kind, reference) if reference else None
            if found is None:
                gateway_reference = self._reference(kind)
                self.records[gateway_reference] = GatewayRecord(
                    kind, reference, gateway_reference, version, body, run=self._run_of(body)
                )
                return gateway_reference
        else:
            gateway_reference = path.rsplit("/", 1)[-1]
            found = self.records.get(gateway_reference)
            if found is None:
                raise LookupError(f"No record {gateway_reference}.")
            body = self._body(found.kind, payload)
        if version and version < found.version:
            raise _Stale(f"Version {version} is older than the {found.version} held.")
        found.version = max(version, found.version)
        found.body.update(body)
        action = str(body.get("action", "")).lower()
        if action == "cancel":
            found.status = "cancelled"
        elif action == "void":
            found.status = "void"
        return found.gateway_reference

    @staticmethod
    def _body(kind: str, payload: Any) -> dict[str, Any]:
        inner = payload.get(PAYLOAD_KEYS[kind], {}) if isinstance(payload, dict) else {}
        if kind == "run" and isinstance(inner, dict):
            run = dict(inner.get("run") or {})
            run["courseReferenceNumber"] = inner.get("courseReferenceNumber", "")
            return run
        return dict(inner) if isinstance(inner, dict) else {}

    @staticmethod
    def _run_of(body: dict[str, Any]) -> str:
        course = body.get("course")
        run = course.get("run") if isinstance(course, dict) else None
        return str(run.get("reference", "")) if isinstance(run, dict) else ""

    def _retrieve(self, handler: BaseHTTPRequestHandler) -> None:
        """GET /courses/runs/{reference}/records: the run and what belongs to it."""
        if handler.headers.get("x-api-key") != self.api_key:
            self._answer(
                handler, 401, {"error": {"code": "UNAUTHORISED", "message": "Bad API key."}}
            )
            return
        parts = handler.path.rstrip("/").split("/")
        behaviour, seconds = self._next_behaviour()
        if behaviour in ("error_500", "timeout"):
            time.sleep(seconds if behaviour == "timeout" else 0)
            self._answer(
                handler, 500, {"error": {"code": "INTERNAL", "message": "Internal error."}}
            )
            return
        with self._lock:
            run = self.records.get(parts[-2]) if parts[-1] == "records" else None
            found: dict[str, Any] | None = None
            if run is not None and run.kind == "run":
                belonging: dict[str, list[dict[str, Any]]] = {name: [] for name in LISTS.values()}
                for item in self.records.values():
                    if item.kind != "run" and item.run == run.gateway_reference:
                        belonging[LISTS[item.kind]].append(item.view())
                found = {"run": run.view(), **belonging}
        if found is None:
            self._answer(handler, 404, {"error": {"code": "NOT_FOUND", "message": "No such run."}})
        else:
            self._answer(handler, 200, {"status": 200, "data": found})


class _Stale(Exception):
    pass
