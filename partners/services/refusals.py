"""Partners' business rules say no to some changes whatever the actor's role (a code already
taken, a broker chosen as a learner's agent, a contact who already speaks for another partner).
Each such refusal is audited as `<action>.refused` with its reason, in a transaction of its
own once the refused change has rolled back, as permission refusals are (accounts.permissions).
Reasons never carry personal values: they are read by auditors."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import models, transaction

from accounts.models import User
from audit.services import audit_record


@contextmanager
def refusals_recorded(
    *, actor: User | None, action: str, entity: models.Model | None = None
) -> Iterator[None]:
    """Around a service's checks and transaction: a ValidationError raised inside is recorded,
    then raised again for the form to show."""
    try:
        yield
    except ValidationError as refusal:
        with transaction.atomic():
            audit_record(
                action=f"{action}.refused",
                actor=actor,
                entity_type=entity._meta.label_lower if entity is not None else "partners",
                entity_id=entity.pk if entity is not None and entity.pk else "",
                new_values={"reason": " ".join(refusal.messages)},
            )
        raise
