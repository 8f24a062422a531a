"""Finance refuses some things whatever the actor's role: to change an issued invoice, to
allocate more than an invoice owes, to approve one's own stipend run. Each refusal is audited
like a permission refusal is (accounts.permissions): raise `Refused` inside the service, and
`refusals_audited` writes the event once the service's transaction has rolled back."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from audit.services import audit_record

P = ParamSpec("P")
R = TypeVar("R")


class Refused(ValidationError):
    """A finance rule said no; the message says why, for the person who tried."""

    def __init__(self, message: str, *, action: str, entity_type: str = "", entity_id: object = ""):
        super().__init__(message, code="refused")
        self.action = action
        self.entity_type = entity_type
        self.entity_id = entity_id


def refusals_audited(service: Callable[P, R]) -> Callable[P, R]:
    """Around a service with a keyword-only `actor`: each `Refused` it raises is recorded as
    `<action>.refused` with the reason, in a transaction of its own, and raised again."""

    @wraps(service)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return service(*args, **kwargs)
        except Refused as refusal:
            actor = kwargs.get("actor")
            with transaction.atomic():
                audit_record(
                    action=f"{refusal.action}.refused",
                    actor=actor if isinstance(actor, User) else None,
                    entity_type=refusal.entity_type or "finance",
                    entity_id=str(refusal.entity_id),
                    new_values={"reason": refusal.messages[0]},
                )
            raise

    return wrapped
