"""A learner's ID number in a sync job (integrations.payloads): the job row keeps a reference
to it, and the number is filled in only when the job is sent, into the payload the connector
encrypts, if the learner still consents to sharing with the funding body. Each fill-in is an
audited production of the number."""

from typing import Any

from integrations.payloads import PayloadWithheld
from learners.consents import consent_given
from learners.models import ConsentKind, Learner
from learners.services import national_id_produce

NATIONAL_ID = "$national_id"


def national_id_reference(learner: Learner) -> dict[str, Any] | str:
    """What a payload holds in place of the learner's number: their id and the start of the
    number's keyed hash (so that a changed number makes a new version of the payload). Empty
    when they have no number."""
    if not learner.national_id_hash:
        return ""
    return {NATIONAL_ID: learner.pk, "digest": learner.national_id_hash[:16]}


def funding_body_sharing_check(learner: Learner | None) -> None:
    """Refuse (PayloadWithheld) to send the learner's details to the gateway unless they
    consent to sharing them with the funding body now: it may have been withdrawn since the
    job was queued."""
    if learner is None or not consent_given(learner, ConsentKind.FUNDING_BODY_SHARING):
        raise PayloadWithheld(
            "the student has not given (or has withdrawn) their consent to sharing their "
            "details with the funding body."
        )


def national_id_resolve(reference: dict[str, Any]) -> str:
    """The number a reference stands for, as the job is sent to the training gateway: only the
    number it was made for (its digest), so that a job queued before the number changed, or
    before the record was merged into another, sends no other number and none."""
    learner = Learner.objects.filter(pk=reference[NATIONAL_ID]).first()
    if learner is None:
        raise PayloadWithheld("the learner's record no longer exists.")
    if not learner.national_id_hash or learner.national_id_hash[:16] != reference.get("digest"):
        raise PayloadWithheld(
            "the student's ID number has changed since the job was queued; a job with the "
            "current one replaces it."
        )
    funding_body_sharing_check(learner)
    return national_id_produce(learner=learner, actor=None, purpose="training gateway")
