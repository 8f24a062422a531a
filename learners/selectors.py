"""Reads about learners that pages use."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import TextChoices
from django.utils.formats import date_format

from accounts.models import User
from learners.choices import Disability, Gender, HomeLanguage, Qualification, Race
from learners.consents import (
    WORDINGS,
    ConsentWording,
    consent_answer,
    consent_given,
    consents_required,
)
from learners.models import Learner

# What a learner's details summary shows, in order, with the vocabulary of stored values.
# Race and disability (special personal information) only where `demographics` is asked for.
DETAILS_SUMMARY: list[tuple[str, str, type[TextChoices] | None]] = [
    ("date_of_birth", "Date of birth", None),
    ("gender", "Gender", Gender),
    ("race", "Population group", Race),
    ("disability", "Disability", Disability),
    ("phone_number", "Mobile number", None),
    ("city", "City or town", None),
    ("home_language", "Home language", HomeLanguage),
    ("highest_qualification", "Highest qualification", Qualification),
]
DEMOGRAPHIC_FIELDS = frozenset({"race", "disability"})


def detail_text(learner: Learner, name: str, choices: type[TextChoices] | None) -> str:
    """One detail of `learner` as people read it; empty when not known."""
    value = getattr(learner, name)
    if not value:
        return ""
    if name == "date_of_birth":
        return date_format(value, "j F Y")
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return str(value)


def learner_details_rows(
    learner: Learner, *, demographics: bool, empty: str | None = "not given"
) -> list[tuple[str, str]]:
    """Label and value of each detail, the ID or passport number masked to its last four
    characters. `empty`: what an unknown value reads as; None leaves the row out."""
    rows: list[tuple[str, str]] = []
    if learner.national_id_last4:
        rows.append((str(learner.get_national_id_type_display()), learner.national_id_masked))
    elif empty is not None:
        rows.append(("ID number", empty))
    for name, label, choices in DETAILS_SUMMARY:
        if name in DEMOGRAPHIC_FIELDS and not demographics:
            continue
        text = detail_text(learner, name, choices)
        if text or empty is not None:
            rows.append((label, text or str(empty)))
    return rows


def learner_of_user(user: User) -> Learner | None:
    """The learner whose account `user` is, if any (staff accounts have none)."""
    learner: Learner | None = Learner.objects.filter(user=user).first()
    return learner


@dataclass(frozen=True)
class ConsentRow:
    """One consent as the learner's profile shows it: its wording, whether the institution asks
    for it, and the learner's latest answer. `outdated`: given to an earlier wording, so asked
    again."""

    wording: ConsentWording
    required: bool
    given: bool
    outdated: bool
    answered_at: datetime | None


def learner_consent_rows(learner: Learner) -> list[ConsentRow]:
    """Every consent, those the institution asks for first. No query: the answers are on the
    learner."""
    required = consents_required()
    rows = []
    for kind, wording in WORDINGS.items():
        answer = consent_answer(learner, kind)
        at = answer.get("at")
        rows.append(
            ConsentRow(
                wording=wording,
                required=kind in required,
                given=consent_given(learner, kind),
                outdated=bool(answer.get("given")) and answer.get("version") != wording.version,
                answered_at=datetime.fromisoformat(at) if at else None,
            )
        )
    return sorted(rows, key=lambda row: not row.required)
