"""A government training gateway in the manner of Singapore's TPGateway: course runs and
enrolments are posted as JSON encrypted with AES-256-CBC under a key shared with the gateway,
with the provider's API key in a header. Responses are encrypted the same way.

Credentials: `api_key`, `encryption_key` (256 bits, base64) and optionally `iv` (16 bytes,
text) for gateways that prescribe a fixed one (TPGateway's is "SSGAPIInitVector").

Attendance and assessment jobs come with the delivery stage."""

from typing import Any

import httpx
from django.db import connection

from integrations.connectors.base import Connector, ReferenceLookup, SendResult, SyncRequest
from integrations.crypto import PayloadDecryptionError, gateway_decrypt, gateway_encrypt

COURSE_RUN = "cohorts.cohort"
ENROLMENT = "enrolments.cohortenrollment"


def _date(value: Any) -> str:
    return value.strftime("%Y%m%d") if hasattr(value, "strftime") else str(value).replace("-", "")


class TrainingGatewayConnector(Connector):
    key = "training_gateway"
    label = "Training gateway (TPGateway-style)"
    redacted_fields = frozenset({"idNumber"})
    credential_fields = ("api_key", "encryption_key", "iv")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client: httpx.Client | None = None

    # --- What a changed record needs ----------------------------------------------------

    def describe(self, entity: Any, *, reported: bool) -> SyncRequest | None:
        label = entity._meta.label_lower
        if label == COURSE_RUN:
            return SyncRequest(
                "course_run_update" if reported else "course_run_create",
                self.course_run_payload(entity),
            )
        if label == ENROLMENT:
            if entity.state == "withdrawn":
                # Never reported: there is nothing at the gateway to cancel.
                return (
                    SyncRequest("enrolment_cancel", self.enrolment_cancel_payload(entity))
                    if reported
                    else None
                )
            return (
                None
                if reported
                else SyncRequest("enrolment_create", self.enrolment_payload(entity))
            )
        return None

    def course_run_payload(self, cohort: Any) -> dict[str, Any]:
        tenant = getattr(connection, "tenant", None)
        return {
            "course": {
                "trainingProvider": {"uen": getattr(tenant, "registration_number", "") or ""},
                "courseReferenceNumber": cohort.program_type,
                "run": {
                    "reference": f"cohort-{cohort.pk}",
                    "title": cohort.name,
                    "courseDates": {
                        "start": _date(cohort.start_date),
                        "end": _date(cohort.end_date),
                    },
                    "intakeSize": cohort.student_count,
                    "status": cohort.state,
                    **(
                        {"cancellationReason": cohort.cancellation_reason}
                        if cohort.cancellation_reason
                        else {}
                    ),
                },
            }
        }

    def enrolment_payload(self, enrollment: Any) -> dict[str, Any]:
        student = enrollment.user
        return {
            "enrolment": {
                "reference": f"enrolment-{enrollment.pk}",
                "course": {"run": {"reference": f"cohort-{enrollment.cohort_id}"}},
                "trainee": {
                    "idNumber": (enrollment.student_data or {}).get("id_number", ""),
                    "fullName": student.full_name,
                    "email": student.email,
                },
            }
        }

    def enrolment_cancel_payload(self, enrollment: Any) -> dict[str, Any]:
        return {
            "enrolment": {
                "action": "Cancel",
                "reference": f"enrolment-{enrollment.pk}",
                "reason": enrollment.withdrawal_reason,
            }
        }

    # --- Sending ------------------------------------------------------------------------

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
        if job_type == "course_run_create":
            return "/courses/runs"
        if job_type == "enrolment_create":
            return "/tpg/enrolments"
        reference = references(entity_type, entity_id)
        if not reference:
            return None
        if job_type == "course_run_update":
            return f"/courses/runs/{reference}"
        return f"/tpg/enrolments/details/{reference}"

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
        payload: dict,
        idempotency_key: str,
        references: ReferenceLookup,
        entity_type: str,
        entity_id: str,
    ) -> SendResult:
        path = self._path(job_type, entity_type, entity_id, references)
        if path is None:
            return SendResult(
                "retryable", error="Waiting for the gateway to accept the record's creation first."
            )
        try:
            body = gateway_encrypt(
                payload, key_b64=self.credentials.get("encryption_key", ""), iv=self._iv()
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
