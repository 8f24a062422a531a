"""What a South African ID number says about its holder, set beside what the student entered,
so that a reviewer looking at an ID document sees at once whether the details agree. It works on
the decrypted number; pages show the number itself masked (templates/learners/_national_id.html)."""

import datetime
from dataclasses import dataclass

from stdnum.za import idnr

from learners.choices import Gender, IdNumberError, id_number_clean
from learners.forms import ID_GENDERS
from learners.models import IdentityType, Learner
from learners.services import learner_national_id

CITIZENSHIP_LABELS = {"citizen": "South African citizen", "resident": "Permanent resident"}


@dataclass(frozen=True)
class IdFact:
    """One thing the ID number implies, what the student entered for it, and whether the two
    disagree (None when there is nothing to compare, e.g. "Prefer not to say")."""

    label: str
    implied: str
    entered: str
    mismatch: bool | None


@dataclass(frozen=True)
class IdNumberCheck:
    error: str
    facts: tuple[IdFact, ...]

    @property
    def has_mismatch(self) -> bool:
        return bool(self.error) or any(fact.mismatch for fact in self.facts)


def _date_label(value: datetime.date) -> str:
    return value.strftime("%-d %B %Y")


def id_number_check(learner: Learner) -> IdNumberCheck | None:
    """None when the learner gave no South African ID number (e.g. they have a passport)."""
    if learner.national_id_type != IdentityType.SA_ID:
        return None
    raw = learner_national_id(learner)
    if not raw:
        return None
    try:
        id_number = id_number_clean(raw)
    except IdNumberError as error:
        return IdNumberCheck(error=str(error), facts=())

    birth = idnr.get_birth_date(id_number)
    entered_date = learner.date_of_birth
    birth_fact = IdFact(
        label="Date of birth",
        implied=_date_label(birth),
        entered=_date_label(entered_date) if entered_date else "not given",
        mismatch=None if entered_date is None else entered_date != birth,
    )

    gender = ID_GENDERS[idnr.get_gender(id_number)]
    entered_gender = learner.gender
    comparable = entered_gender in (Gender.FEMALE, Gender.MALE)
    gender_fact = IdFact(
        label="Gender",
        implied=str(gender.label),
        entered=str(Gender(entered_gender).label)
        if entered_gender in Gender.values
        else (entered_gender or "not given"),
        mismatch=(entered_gender != gender) if comparable else None,
    )

    citizenship = idnr.get_citizenship(id_number)
    entered_citizenship = learner.citizenship
    citizenship_fact = IdFact(
        label="Citizenship",
        implied=CITIZENSHIP_LABELS.get(citizenship, citizenship),
        entered=CITIZENSHIP_LABELS.get(entered_citizenship, entered_citizenship or "not asked"),
        mismatch=(entered_citizenship != citizenship) if entered_citizenship else None,
    )
    return IdNumberCheck(
        error="",
        facts=(birth_fact, gender_fact, citizenship_fact),
    )
