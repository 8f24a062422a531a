"""A government training gateway in the manner of Singapore's TPGateway: course runs and
enrolments are posted as JSON encrypted with AES-256-CBC under a key shared with the gateway,
with the provider's API key in a header. Responses are encrypted the same way.

Credentials: `api_key`, `encryption_key` (256 bits, base64) and optionally `iv` (16 bytes,
text) for gateways that prescribe a fixed one (TPGateway's is "SSGAPIInitVector").

What is sent for each record comes from its app's payload builder (integrations.payloads); the
connector knows only where each job type goes (`paths`)."""

from typing import Any, ClassVar

import httpx

from integrations.connectors.base import Connector, ReferenceLookup, RetrieveFailed, SendResult
from integrations.crypto import PayloadDecryptionError, gateway_decrypt, gateway_encrypt
from integrations.models import SyncJobType


class TrainingGatewayConnector(Connector):
    key = "training_gateway"
    label = "Training gateway (TPGateway-style)"
    redacted_fields = frozenset({"idNumber"})
    credential_fields = ("api_key", "encryption_key", "iv")
    # Where each job type is posted. A path with {reference} changes a record the gateway has
    # created: it waits until the gateway has given the record its reference.
    paths: ClassVar[dict[str, str]] = {
        SyncJobType.COURSE_RUN_CREATE: "/courses/runs",
        SyncJobType.COURSE_RUN_UPDATE: "/courses/runs/{reference}",
        SyncJobType.COURSE_RUN_CANCEL: "/courses/runs/{reference}",
        SyncJobType.ENROLMENT_CREATE: "/tpg/enrolments",
        SyncJobType.ENROLMENT_UPDATE: "/tpg/enrolments/details/{reference}",
        SyncJobType.ENROLMENT_CANCEL: "/tpg/enrolments/details/{reference}",
        SyncJobType.ATTENDANCE_CREATE: "/tpg/attendance",
        SyncJobType.ATTENDANCE_UPDATE: "/tpg/attendance/details/{reference}",
        SyncJobType.ASSESSMENT_CREATE: "/tpg/assessments",
        SyncJobType.ASSESSMENT_UPDATE: "/tpg/assessments/details/{reference}",
        SyncJobType.ASSESSMENT_VOID: "/tpg/assessments/details/{reference}",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout, connect=min(5.0, self.timeout)),
                headers={"x-api-key": self.credentials.get("api_key", "")},
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _iv(self) -> bytes | None:
        iv = self.credentials.get("iv", "")
        return iv.encode() if iv else None

    def _path(
        self, job_type: str, entity_type: str, entity_id: str, references: ReferenceLookup
    ) -> str | None:
        """The job's path at the gateway, or None while the record's reference is unknown."""
        path = self.paths[job_type]
        if "{reference}" not in path:
            return path
        reference = references(entity_type, entity_id)
        return path.format(reference=reference) if reference else None

    def _decode(self, response: httpx.Response) -> dict[str, Any]:
        text = response.text.strip()
        if not text:
            return {}
        try:
            body = gateway_decrypt(
                text, key_b64=self.credentials.get("encryption_key", ""), iv=self._iv()
            )
        except PayloadDecryptionError:
            try:
                body = response.json()
            except ValueError:
                return {"raw": text[:2000]}
        return body if isinstance(body, dict) else {"data": body}

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
        if job_type not in self.paths:
            return SendResult("permanent", error=f"The gateway takes no {job_type!r} jobs.")
        path = self._path(job_type, entity_type, entity_id, references)
        if path is None:
            return SendResult(
                "retryable", error="Waiting for the gateway to accept the record's creation first."
            )
        try:
            body = gateway_encrypt(
                {**payload, "syncVersion": version},
                key_b64=self.credentials.get("encryption_key", ""),
                iv=self._iv(),
            )
        except ValueError as error:
            return SendResult("permanent", error=f"Connector configuration: {error}")
        try:
            response = self.client.post(
                self.base_url + path,
                content=body,
                headers={"Content-Type": "text/plain", "Idempotency-Key": idempotency_key},
            )
        except httpx.TimeoutException as error:
            return SendResult("retryable", error=f"Timed out: {type(error).__name__}")
        except httpx.HTTPError as error:
            return SendResult("retryable", error=f"{type(error).__name__}: {error}")
        decoded = self._decode(response)
        status = response.status_code
        error_body = decoded.get("error")
        problem = error_body if isinstance(error_body, dict) else {}
        message = problem.get("message") or decoded.get("raw", "") or response.reason_phrase
        if 200 <= status < 300:
            data = decoded.get("data") or {}
            return SendResult("succeeded", status, str(data.get("reference", "")), decoded)
        if status == 409 and problem.get("code") == "STALE_VERSION":
            return SendResult(
                "stale",
                status,
                response=decoded,
                error=f"The gateway holds a newer version of the record. {message}",
            )
        if status == 409 and problem.get("code") == "DUPLICATE":
            if problem.get("idempotencyKey") == idempotency_key:
                return SendResult("duplicate", status, str(problem.get("reference", "")), decoded)
            return SendResult(
                "permanent", status, response=decoded, error=f"Gateway: duplicate. {message}"
            )
        if status in (400, 401, 403, 404, 409, 422):
            details = "; ".join(str(item) for item in problem.get("details", []) or [])
            rejection = f"Gateway rejected it ({status}): {message}" + (
                f" ({details})" if details else ""
            )
            return SendResult("permanent", status, response=decoded, error=rejection)
        return SendResult(
            "retryable", status, response=decoded, error=f"Gateway {status}: {message}"
        )

    def retrieve(self, reference: str) -> dict[str, Any]:
        try:
            response = self.client.get(f"{self.base_url}/courses/runs/{reference}/records")
        except httpx.HTTPError as error:
            raise RetrieveFailed(f"{type(error).__name__}: {error}") from error
        decoded = self._decode(response)
        if response.status_code != 200:
            problem = decoded.get("error")
            message = problem.get("message", "") if isinstance(problem, dict) else ""
            raise RetrieveFailed(f"Gateway {response.status_code}: {message or 'no answer'}")
        data = decoded.get("data")
        if not isinstance(data, dict):
            raise RetrieveFailed("The gateway's answer holds no records.")
        return data
