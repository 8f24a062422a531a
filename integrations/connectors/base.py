"""What every connector provides: sending one job (`send`), with the outcome classified for the
retry policy. What a record's job carries comes from its app's payload builder
(integrations.payloads), not from the connector."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

SECRET_MARKERS = ("apikey", "api_key", "secret", "password", "token", "encryption", "credential")
REDACTED = "•••"


@dataclass
class SendResult:
    """How one attempt ended. `outcome` is one of SyncAttemptOutcome's succeeded, duplicate,
    retryable, permanent or stale (the gateway holds a newer version of the record)."""

    outcome: str
    http_status: int | None = None
    external_reference: str = ""
    response: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    # Not tried: it belongs to a record still on its way to the gateway, due again then.
    wait_until: datetime | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome in ("succeeded", "duplicate")


class RetrieveFailed(Exception):
    """The external system could not be read (unreachable, refused, unreadable answer)."""


# Looks up the external reference an earlier accepted job of a record received.
ReferenceLookup = Callable[[str, str], str]


class Connector:
    """Base class. Subclasses set `key` and implement `send`."""

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    # Full-jitter exponential backoff: a retry waits uniform(0, min(cap, base * 2**attempts)).
    retry_base_seconds: ClassVar[float] = 5.0
    retry_cap_seconds: ClassVar[float] = 30 * 60.0
    # Room in a lease, beyond the sends it covers, to record their outcomes.
    lease_margin_seconds: ClassVar[float] = 30.0
    # Fields never shown on the job page (besides names that look like secrets).
    redacted_fields: ClassVar[frozenset[str]] = frozenset()
    credential_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        base_url: str,
        credentials: dict[str, str],
        timeout: float = 20.0,
        max_attempts: int = 6,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.max_attempts = max_attempts

    @property
    def send_seconds(self) -> float:
        """The longest one send may take: each of connect, write and read up to `timeout`."""
        return 3 * self.timeout

    @property
    def lease_seconds(self) -> float:
        """How long a worker may hold its jobs before another may take them over: one send's
        longest, with room to start sends for `timeout` seconds and to record them."""
        return self.send_seconds + self.timeout + self.lease_margin_seconds

    def send(
        self,
        *,
        job_type: str,
        payload: dict[str, Any],
        idempotency_key: str,
        version: int,
        references: ReferenceLookup,
        entity_type: str,
        entity_id: str,
    ) -> SendResult:
        raise NotImplementedError

    def retrieve(self, reference: str) -> dict[str, Any]:
        """What the external system holds of a course run (its gateway reference) and of the
        records that belong to it, for reconciliation: {"run": {...}, "enrolments": [...],
        "attendance": [...], "assessments": [...]}, each as last accepted, with our
        `reference` and the gateway's `gatewayReference` and `syncVersion`. Raises
        RetrieveFailed when it cannot be read."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what `send` keeps open (an HTTP connection pool)."""

    def redact(self, value: Any) -> Any:
        """A copy of a payload or response fit for the job page."""
        if isinstance(value, dict):
            return {
                key: REDACTED
                if key in self.redacted_fields
                or any(marker in key.lower() for marker in SECRET_MARKERS)
                else self.redact(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.redact(item) for item in value]
        return value
