"""What the external system is sent for each kind of record, and when: a payload builder per
entity type, supplied by the app that owns the record. integrations never reads a domain
record's fields; it asks the builder registered for the record's model label.

A builder takes the changed record and whether the external system already has it (a create
job for it has been accepted or is on its way), and returns the job the record needs now, or
None for none:

    def build_cohort_payload(cohort: Cohort, *, reported: bool) -> SyncRequest | None:
        ...

Adding a record to the sync (course runs, attendance, assessments):

1. In the owning app, write the builder in `<app>/gateway.py`, returning a `SyncRequest` with
   a job type from `integrations.models.SyncJobType` (add new job types there, with their
   migration) and the payload in the gateway's words.
2. Register it in the app's `AppConfig.ready`, keyed by the model's label in lower case:
   `payloads.register("delivery.courserun", build_course_run_payload)`.
3. Call `integrations.services.sync_enqueue_for(record)` (or `sync_enqueue_many`) at the end
   of each service that changes the record, inside its transaction.
4. Tell the connector where each new job type goes (`TrainingGatewayConnector.paths`).

Queueing a job for a type that has no builder raises `PayloadBuilderMissing`, whether or not
the institution has a connector, so that a forgotten registration fails every test that
changes such a record.

A value that must not be stored in the job (a national ID number) is put in the payload as a
reference, a dict with a registered `$name` key, e.g. {"$national_id": 12, "digest": "..."}.
The job row keeps the reference; `resolve` fills in the value when the job is sent, into the
payload the connector encrypts, and nowhere else. The app that owns the value registers its
resolver (`payloads.register_resolver("$national_id", resolve_national_id)`); a resolver
that may not give the value now raises `PayloadWithheld`, and the job fails with its reason.
`resolve` returns the values it filled in too, so that an answer that quotes one (a gateway's
error message) is scrubbed before it is stored.

A record that belongs to another at the gateway (an enrolment to its course run) names the
other by the reference the gateway gave it, which is not known when the job is queued: the
payload holds {"$gateway_reference": "delivery.courserun", "id": "12"}, filled in when the job
is sent from the other record's accepted jobs. Until the gateway has accepted the other record
the resolver raises `PayloadNotReady`, and the job waits (is retried) rather than fails.

Whether a record may be sent at all, whatever its payload holds (the student's consent to
sharing with the funding body), is asked of a send check its app registers like a builder
(`payloads.register_send_check("enrolments.cohortenrollment", enrolment_send_check)`): it is
called with the record's id and the job type just before each send, and raises
`PayloadWithheld` to hold the job back."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class SyncRequest:
    """A job a record needs: its type (a SyncJobType) and the payload that will be sent."""

    job_type: str
    payload: dict[str, Any]


class PayloadBuilder(Protocol):
    """builder(record, reported=...) -> the job the record needs now, or None."""

    def __call__(self, entity: Any, /, *, reported: bool) -> SyncRequest | None: ...


class PayloadBuilderMissing(ImproperlyConfigured):
    """A record of a type that no app registered a payload builder for was to be synced."""


class PayloadBuilders:
    """Payload builders by entity type (a model's `_meta.label_lower`)."""

    def __init__(self) -> None:
        self._builders: dict[str, PayloadBuilder] = {}

    def register(self, entity_type: str, builder: PayloadBuilder) -> None:
        """Make `builder` the one for `entity_type`. Registering the same builder again is
        harmless (an app registry set up twice); a second, different one is refused."""
        if entity_type != entity_type.lower() or "." not in entity_type:
            raise ValueError(
                f"Entity type {entity_type!r} is not a model label in lower case "
                "(app_label.modelname)."
            )
        registered = self._builders.get(entity_type)
        if registered is not None and registered is not builder:
            raise ImproperlyConfigured(
                f"A payload builder for {entity_type!r} is already registered: {registered!r}."
            )
        self._builders[entity_type] = builder

    def builder_for(self, entity_type: str) -> PayloadBuilder:
        try:
            return self._builders[entity_type]
        except KeyError:
            raise PayloadBuilderMissing(
                f"No payload builder is registered for {entity_type!r}: register one with "
                "integrations.payloads.register in its app's AppConfig.ready."
            ) from None


builders = PayloadBuilders()
register = builders.register
builder_for = builders.builder_for


class PayloadWithheld(Exception):
    """A value the payload refers to may not be sent (now): the job is not sent, and fails with
    this message after WITHHELD_PREFIX."""


# How the error of a job withheld at send time begins ("Not sent: the student has not ...").
WITHHELD_PREFIX = "Not sent:"


class PayloadNotReady(Exception):
    """The payload refers to something the gateway has not got yet (the record it belongs to):
    the job is not sent now. With `due_at` (that record is on its way: queued or being sent),
    it waits until then without counting as a failed attempt; without, it is retried as after
    a failure, and dead-letters in the end if that record never reaches the gateway."""

    def __init__(self, message: str, *, due_at: datetime | None = None) -> None:
        super().__init__(message)
        self.due_at = due_at


# The placeholder for another record's gateway reference (integrations.services resolves it).
GATEWAY_REFERENCE = "$gateway_reference"


def records_named(value: Any) -> Iterator[tuple[str, str]]:
    """The (entity type, id) of each other record a payload names by its gateway reference."""
    if isinstance(value, dict):
        if GATEWAY_REFERENCE in value:
            yield str(value[GATEWAY_REFERENCE]), str(value["id"])
            return
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            yield from records_named(item)


class SendCheck(Protocol):
    """check(entity_id, job_type=...) -> None, or PayloadWithheld when it may not be sent now."""

    def __call__(self, entity_id: str, /, *, job_type: str) -> None: ...


class SendChecks:
    """Send checks by entity type (a model's `_meta.label_lower`); a type without one is sent
    as its payload allows."""

    def __init__(self) -> None:
        self._checks: dict[str, SendCheck] = {}

    def register(self, entity_type: str, check: SendCheck) -> None:
        registered = self._checks.get(entity_type)
        if registered is not None and registered is not check:
            raise ImproperlyConfigured(f"A send check for {entity_type!r} is already registered.")
        self._checks[entity_type] = check

    def check(self, entity_type: str, entity_id: str, *, job_type: str) -> None:
        registered = self._checks.get(entity_type)
        if registered is not None:
            registered(entity_id, job_type=job_type)


send_checks = SendChecks()
register_send_check = send_checks.register
send_check = send_checks.check


ReferenceResolver = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Resolved:
    """A payload with its references filled in, and the values filled in (to scrub from
    whatever comes back)."""

    payload: Any
    filled: tuple[str, ...]


class PayloadResolvers:
    """Resolvers of references by their `$name` key."""

    def __init__(self) -> None:
        self._resolvers: dict[str, ReferenceResolver] = {}
        self._public: set[str] = set()

    def register(self, name: str, resolver: ReferenceResolver, *, secret: bool = True) -> None:
        """Make `resolver` fill in `name` references. What a secret resolver gives is scrubbed
        from whatever comes back; a public one's (another record's reference) is not."""
        if not name.startswith("$"):
            raise ValueError(f"A reference's name starts with $: {name!r}.")
        registered = self._resolvers.get(name)
        if registered is not None and registered is not resolver:
            raise ImproperlyConfigured(f"A resolver for {name!r} is already registered.")
        self._resolvers[name] = resolver
        if not secret:
            self._public.add(name)

    def resolve(self, value: Any) -> Resolved:
        """A copy of `value` with every reference replaced by what its resolver gives."""
        filled: list[str] = []
        return Resolved(self._fill(value, filled), tuple(filled))

    def _fill(self, value: Any, filled: list[str]) -> Any:
        if isinstance(value, dict):
            names = [key for key in value if isinstance(key, str) and key.startswith("$")]
            if names:
                try:
                    resolver = self._resolvers[names[0]]
                except KeyError:
                    raise ImproperlyConfigured(
                        f"No resolver is registered for {names[0]!r}: register one with "
                        "integrations.payloads.register_resolver."
                    ) from None
                resolved = resolver(value)
                if resolved not in ("", None) and names[0] not in self._public:
                    filled.append(str(resolved))
                return resolved
            return {key: self._fill(item, filled) for key, item in value.items()}
        if isinstance(value, list):
            return [self._fill(item, filled) for item in value]
        return value


resolvers = PayloadResolvers()
register_resolver = resolvers.register
resolve = resolvers.resolve
