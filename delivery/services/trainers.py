"""Trainers (seed 002): a person who teaches, linked to an account that holds the trainer role.
Adding a trainer gives an existing account the role, or invites a new person with it."""

from dataclasses import asdict, dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import SystemRole, User, normalise_email
from accounts.permissions import may_grant, permission_check
from accounts.selectors import user_for_email
from accounts.services import roles_allow, user_invite_in_transaction, user_role_add_in_transaction
from audit.services import audit_record
from delivery.access import MANAGE, manage_check
from delivery.models import CalendarFeedOwner, Trainer
from delivery.services.feeds import calendar_feed_end_in_transaction


@dataclass(frozen=True)
class TrainerDetails:
    """What an admin types about a trainer (seed 002 fields)."""

    name: str
    phone_number: str = ""
    credentials: str = ""
    accreditation_number: str = ""
    accreditation_expires_on: date | None = None
    active_status: bool = True


def may_add_trainers(user: User) -> bool:
    """Whether `user` may make people trainers: they manage delivery and may give the trainer
    role (as the people pages decide who may give a role)."""
    return user.may(MANAGE) and may_grant(user, roles_allow([SystemRole.TRAINER]))


def trainer_create(*, actor: User | None, email: str, details: TrainerDetails) -> Trainer:
    """Make the person with `email` a trainer: an account here is given the trainer role, an
    address without one is invited with it (which needs managing people). Refused for someone
    who is a trainer already, and for whoever may not give the trainer role."""
    manage_check(actor=actor, action="delivery.trainer_create")
    permission_check(
        actor=actor,
        action="delivery.trainer_create",
        allowed=may_grant(actor, roles_allow([SystemRole.TRAINER])),
    )
    email = normalise_email(email)
    if user_for_email(email) is None:
        permission_check(
            actor=actor, action="delivery.trainer_invite", permission="accounts.manage_people"
        )
    with transaction.atomic(durable=True):
        user = user_for_email(email, lock=True)
        if user is None:
            user = user_invite_in_transaction(
                email=email, full_name=details.name, roles=[SystemRole.TRAINER], actor=actor
            )
        elif Trainer.objects.filter(user=user).exists():
            raise ValidationError({"email": f"{email} is a trainer already."})
        else:
            user_role_add_in_transaction(user=user, role=SystemRole.TRAINER, actor=actor)
        trainer = Trainer(user=user, email=email, **asdict(details))
        trainer.full_clean()
        trainer.save()
        audit_record(
            actor=actor,
            action="trainer.created",
            entity=trainer,
            new_values={**asdict(details), "email": email, "user": user.pk},
        )
        return trainer


def trainer_update(*, actor: User | None, trainer: Trainer, details: TrainerDetails) -> Trainer:
    """Change what is on file about a trainer (their account stays as it is). A trainer made
    inactive loses their calendar feed: it would go on showing sessions they no longer teach."""
    manage_check(actor=actor, action="delivery.trainer_update")
    with transaction.atomic(durable=True):
        trainer = Trainer.objects.select_for_update().get(pk=trainer.pk)
        new = asdict(details)
        old = {name: getattr(trainer, name) for name in new}
        changed = [name for name in new if old[name] != new[name]]
        if not changed:
            return trainer
        for name in changed:
            setattr(trainer, name, new[name])
        trainer.full_clean()
        trainer.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="trainer.changed",
            entity=trainer,
            old_values={name: old[name] for name in changed},
            new_values={name: new[name] for name in changed},
        )
        if not trainer.active_status:
            calendar_feed_end_in_transaction(
                actor=actor, user=trainer.user, owner=CalendarFeedOwner.TRAINER
            )
        return trainer
