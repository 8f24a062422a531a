"""The operator's view of one institution: what the platform's own tables say (its domains,
status and creation) and what only the institution's records can tell (people, cohorts,
students, its admins, its latest activity, and the platform's trail about it).

Those records belong to apps above tenants, which tenants may not import: each reader that
fills in part of the facts is registered from above (`facts_reader_register`, done by the
project's app config) and runs inside the institution's schema."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django_tenants.utils import tenant_context

from tenants.models import Institution


@dataclass(frozen=True)
class InstitutionAdmin:
    name: str
    email: str
    roles: tuple[str, ...]
    last_login: datetime | None
    has_password: bool


@dataclass(frozen=True)
class StatusChange:
    """An event of the platform's trail about the institution: created, suspended, ..."""

    at: datetime
    what: str
    by: str
    reason: str = ""


@dataclass
class InstitutionFacts:
    counts: dict[str, int] = field(default_factory=dict)  # label -> number, in reading order
    admins: list[InstitutionAdmin] = field(default_factory=list)
    last_activity: datetime | None = None
    status_history: list[StatusChange] = field(default_factory=list)

    def activity_seen(self, moment: datetime | None) -> None:
        """Keep the latest of the moments the readers report."""
        if moment is not None and (self.last_activity is None or moment > self.last_activity):
            self.last_activity = moment

    @property
    def suspension(self) -> StatusChange | None:
        """The latest status change, if it is the suspension in force."""
        latest = self.status_history[0] if self.status_history else None
        return latest if latest is not None and latest.what == "Suspended" else None


FactsReader = Callable[[Institution, InstitutionFacts], None]
_readers: list[FactsReader] = []


def facts_reader_register(reader: FactsReader) -> None:
    """Add a reader; each runs once per page, in registration order, in the institution's
    schema. Registering the same reader twice keeps one."""
    if reader not in _readers:
        _readers.append(reader)


def institution_facts(institution: Institution) -> InstitutionFacts:
    facts = InstitutionFacts()
    with tenant_context(institution):
        for reader in _readers:
            reader(institution, facts)
    return facts
