"""Who brought a learner (seed 001 `candidates.agentId`, `brokerId`): the agent who recruited
them and the broker who places them, set or cleared by finance or by the people who keep
learners' records, and audited. A new choice must be an active partner of the right kind; one
already set stays valid when its partner is later deactivated."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from learners.models import Learner
from partners.access import SET_INTRODUCTION
from partners.models import LearnerIntroduction, Partner, PartnerKind
from partners.services.refusals import refusals_recorded


def _choice_check(
    errors: dict[str, str], field: str, chosen: Partner | None, current_id: int | None, kind: str
) -> None:
    if chosen is None or chosen.pk == current_id:
        return
    label = PartnerKind(kind).label.lower()
    if chosen.kind != kind:
        article = "an" if label[0] in "aeiou" else "a"
        errors[field] = f"{chosen.name} is not {article} {label}: choose one of the {label}s."
    elif not chosen.is_active:
        errors[field] = f"{chosen.name} is deactivated: reactivate it first, or choose another."


def learner_introduction_set(
    *, actor: User | None, learner: Learner, agent: Partner | None, broker: Partner | None
) -> LearnerIntroduction:
    """Record `agent` and `broker` (either may be None: not known, or cleared) as the partners
    who brought `learner`."""
    permission_check(actor=actor, permission=SET_INTRODUCTION, action="learner_introduction.set")
    with (
        refusals_recorded(actor=actor, action="learner_introduction.set", entity=learner),
        transaction.atomic(durable=True),
    ):
        learner = Learner.objects.select_for_update().get(pk=learner.pk)
        introduction = LearnerIntroduction.objects.select_for_update().filter(
            learner=learner
        ).first() or LearnerIntroduction(learner=learner)
        old = {"agent": introduction.agent_id, "broker": introduction.broker_id}
        errors: dict[str, str] = {}
        _choice_check(errors, "agent", agent, old["agent"], PartnerKind.AGENT)
        _choice_check(errors, "broker", broker, old["broker"], PartnerKind.BROKER)
        if errors:
            raise ValidationError(errors)
        new = {
            "agent": agent.pk if agent is not None else None,
            "broker": broker.pk if broker is not None else None,
        }
        if new == old and introduction.pk is not None:
            return introduction
        introduction.agent, introduction.broker, introduction.updated_by = agent, broker, actor
        introduction.save()
        audit_record(
            actor=actor,
            action="learner_introduction.set",
            entity=introduction,
            old_values={name: value for name, value in old.items() if value != new[name]},
            new_values={name: value for name, value in new.items() if value != old[name]},
        )
    return introduction
