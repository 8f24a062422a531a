"""What a learner is asked to consent to, in the words they are shown, and which consents the
institution asks for. A consent counts only when it was given to the current wording: changing
a wording means giving it a new version, and every learner is asked again.

Learner.consent_flags holds the latest answer per kind:
{"sponsor_sharing": {"given": true, "version": "1", "at": "2026-03-01T09:00:00+00:00",
"method": "portal"}}; LearnerConsent keeps every answer (learners.services.consent_record)."""

from dataclasses import dataclass
from typing import Any

from learners.models import ConsentKind, Learner
from tenants.db import tenant_connection

# Institution.settings key: the consents the super admin asks students for, besides
# data processing (always asked). Set on the institution settings page (tenants.options).
REQUIRED_CONSENTS = "required_consents"
ALWAYS_REQUIRED = frozenset({ConsentKind.DATA_PROCESSING.value})


@dataclass(frozen=True)
class ConsentWording:
    """One consent as the learner reads it: `version` changes whenever `text` does."""

    kind: str
    version: str
    title: str
    text: str
    withdrawal: str  # what withdrawing it means for the learner


WORDINGS: dict[str, ConsentWording] = {
    wording.kind: wording
    for wording in (
        ConsentWording(
            kind=ConsentKind.DATA_PROCESSING,
            version="1",
            title="Processing my personal information",
            text="I agree that the institution collects, keeps and uses my personal information "
            "(my details, my ID or passport number and the documents I upload) to enrol me, run "
            "my programme and report on it as the law requires, under the Protection of "
            "Personal Information Act (POPIA). It keeps my information only as long as it needs "
            "to, and I may ask to see or correct it at any time.",
            withdrawal="The institution can no longer process your enrolment: it will contact "
            "you about what happens next.",
        ),
        ConsentWording(
            kind=ConsentKind.SPONSOR_SHARING,
            version="1",
            title="Sharing my details with my sponsor",
            text="I agree that the institution shares my contact details (e-mail address and "
            "mobile number) with the sponsor (employer) of my programme, so that they can reach "
            "me about my placement and my work. My agreement, which names the sponsor as a "
            "party, is shared with them in any case.",
            withdrawal="Your sponsor no longer sees your contact details.",
        ),
        ConsentWording(
            kind=ConsentKind.FUNDING_BODY_SHARING,
            version="1",
            title="Sharing my details with the funding body",
            text="I agree that the institution reports my enrolment, with my name, e-mail "
            "address and ID or passport number, to the funding body (SETA) and its training "
            "gateway, which fund and register my programme.",
            withdrawal="Your enrolments are no longer reported to the funding body: this can "
            "affect the funding of your programme.",
        ),
    )
}


def consent_wording(kind: str) -> ConsentWording:
    return WORDINGS[kind]


def consents_required() -> list[str]:
    """The kinds the current institution asks every student for, in ConsentKind's order."""
    settings = getattr(tenant_connection.tenant, "settings", None) or {}
    chosen = set(settings.get(REQUIRED_CONSENTS, [])) | ALWAYS_REQUIRED
    return [kind for kind in ConsentKind.values if kind in chosen]


def consent_answer(learner: Learner, kind: str) -> dict[str, Any]:
    """The learner's latest answer to `kind` (empty when never asked)."""
    answer = (learner.consent_flags or {}).get(kind)
    return answer if isinstance(answer, dict) else {}


def consent_given(learner: Learner, kind: str) -> bool:
    """Whether the learner's latest answer gives `kind`, to its current wording."""
    answer = consent_answer(learner, kind)
    return bool(answer.get("given")) and answer.get("version") == WORDINGS[kind].version


def consents_missing(learner: Learner) -> list[ConsentWording]:
    """The consents the institution asks for that the learner has not given to the current
    wording: what the portal asks them for."""
    return [WORDINGS[kind] for kind in consents_required() if not consent_given(learner, kind)]
