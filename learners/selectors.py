"""Reads about learners that pages use.

Learners sit below cohorts and enrolments (the import contracts in pyproject.toml): what a
learner page shows of them is reached through the relations that point here
(`Learner.enrollments`, and on from there), never by importing their models."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Field, Q, QuerySet, TextChoices, Value
from django.db.models.functions import Concat
from django.utils.formats import date_format

from accounts.models import User
from audit.models import AuditEvent
from audit.selectors import audit_event_list
from learners.choices import Disability, Gender, HomeLanguage, Qualification, Race
from learners.consents import (
    WORDINGS,
    ConsentWording,
    consent_answer,
    consent_given,
    consents_required,
)
from learners.models import LEARNER_DETAIL_FIELDS, Learner, LearnerConsent, LearnerStatus
from signing.models import Submission

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


def program_type_choices() -> list[tuple[str, str]]:
    """The cohorts' programme types (Cohort.program_type), for the list's filter."""
    enrollment = Learner._meta.get_field("enrollments").related_model
    cohort = enrollment._meta.get_field("cohort").related_model
    field = cohort._meta.get_field("program_type")
    assert isinstance(field, Field)
    return [(str(value), str(label)) for value, label in field.flatchoices]


def learner_cohort_choices() -> list[tuple[int, str]]:
    """The cohorts anyone is enrolled in, by name, for the list's filter: one query."""
    rows = (
        Learner.objects.filter(enrollments__isnull=False)
        .values_list("enrollments__cohort_id", "enrollments__cohort__name")
        .distinct()
        .order_by("enrollments__cohort__name", "enrollments__cohort_id")
    )
    return [(pk, name) for pk, name in rows]


# How many characters of a number are kept in clear (Learner.national_id_last4).
LAST_CHARACTERS = 4


def _last_characters(search: str) -> str:
    """`search` read as the last four characters of an ID or passport number (with a digit in
    them, so that a four-letter name is not one), or nothing. A whole number is never looked
    up by a search box."""
    term = "".join(search.split()).upper()
    if len(term) == LAST_CHARACTERS and term.isalnum() and any(c.isdigit() for c in term):
        return term
    return ""


def learner_list_for_staff(
    *, search: str = "", status: str = "", cohort: int | None = None, program_type: str = ""
) -> QuerySet[Learner]:
    """The learners list, each row with its number of enrolments, in one query whatever the
    page size. `search` matches a name, an e-mail address or the last four characters of the
    number. Archived records (e.g. the other side of a merge) only when asked for."""
    learners: QuerySet[Learner] = Learner.objects.annotate(enrollment_count=Count("enrollments"))
    if status:
        learners = learners.filter(status=status)
    else:
        learners = learners.exclude(status=LearnerStatus.ARCHIVED)
    if search:
        term = " ".join(search.split())
        matches = Q(whole_name__icontains=term) | Q(email__icontains=term)
        matches |= Q(user__email__icontains=term)
        if last := _last_characters(term):
            matches |= Q(national_id_last4=last)
        learners = learners.annotate(
            whole_name=Concat("first_name", Value(" "), "last_name")
        ).filter(matches)
    if cohort is not None:
        learners = learners.filter(
            pk__in=Learner.objects.filter(enrollments__cohort_id=cohort).values("pk")
        )
    if program_type:
        learners = learners.filter(
            pk__in=Learner.objects.filter(enrollments__cohort__program_type=program_type).values(
                "pk"
            )
        )
    return learners.order_by("last_name", "first_name", "pk")


def learner_for_staff(*, pk: int) -> Learner:
    """One learner with their account and who made and last changed the record
    (Learner.DoesNotExist if there is none)."""
    learner: Learner = Learner.objects.select_related("user", "created_by", "updated_by").get(pk=pk)
    return learner


def learner_enrollments(learner: Learner) -> list[Any]:
    """The learner's enrolments across cohorts, newest first, each with its cohort and its
    documents (every version, newest first, with its type): three queries."""
    return list(
        learner.enrollments.select_related("cohort")
        .prefetch_related("documents__document_type")
        .order_by("-invited_at", "-pk")
    )


def enrollments_documents(enrollments: list[Any]) -> list[Any]:
    """The documents of enrolments from `learner_enrollments` (no query: prefetched), newest
    enrolment first; each knows its enrolment and cohort."""
    return [document for enrollment in enrollments for document in enrollment.documents.all()]


def learner_agreements(enrollments: list[Any]) -> list[Submission]:
    """What was sent for signing for these enrolments (each main agreement and supporting
    agreement), newest first, each with `enrollment` set to the enrolment it is part of: two
    queries."""
    if not enrollments:
        return []
    by_pk = {str(enrollment.pk): enrollment for enrollment in enrollments}
    supporting_model = enrollments[0].supporting_agreements.model
    supporting = {
        str(pk): by_pk[str(enrollment_id)]
        for pk, enrollment_id in supporting_model._default_manager.filter(
            enrollment_id__in=[enrollment.pk for enrollment in enrollments]
        ).values_list("pk", "enrollment_id")
    }
    enrollment_type = enrollments[0]._meta.label_lower
    supporting_type = supporting_model._meta.label_lower
    submissions = list(
        Submission.objects.filter(
            Q(subject_type=enrollment_type, subject_id__in=by_pk)
            | Q(subject_type=supporting_type, subject_id__in=supporting)
        ).order_by("-created_at", "-pk")
    )
    for submission in submissions:
        owners = by_pk if submission.subject_type == enrollment_type else supporting
        submission.enrollment = owners[submission.subject_id]  # type: ignore[attr-defined]
    return submissions


def learner_consents(learner: Learner) -> QuerySet[LearnerConsent]:
    """The learner's consent history, newest first, with who recorded each answer."""
    return learner.consents.select_related("recorded_by").order_by("-recorded_at", "-pk")


def learner_trail(learner: Learner) -> QuerySet[AuditEvent]:
    """The audit events about the learner's record, newest first."""
    return audit_event_list(entity_type=Learner._meta.label_lower, entity_id=str(learner.pk))


# What a merge copies from the other record into the kept one where the kept one has nothing.
MERGE_FIELDS = ("first_name", "last_name", "email", *LEARNER_DETAIL_FIELDS, "details_completed_at")


@dataclass(frozen=True)
class MergePlan:
    """What merging `other` into `keep` does (learners.services.learner_merge does exactly
    this, and refuses while there are `conflicts`). Field names, never values."""

    keep: Learner
    other: Learner
    filled: list[str]
    differing: list[str]
    number_moves: bool
    account_moves: bool
    consent_kinds: list[str]
    conflicts: list[str]

    @staticmethod
    def labels(names: list[str]) -> list[str]:
        return [
            "ID or passport number"
            if name == "national_id"
            else str(Learner._meta.get_field(name).verbose_name)
            for name in names
        ]

    @property
    def filled_labels(self) -> list[str]:
        return self.labels(self.filled + (["national_id"] if self.number_moves else []))

    @property
    def differing_labels(self) -> list[str]:
        return self.labels(self.differing)


def _merge_conflicts(keep: Learner, other: Learner) -> list[str]:
    if keep.pk == other.pk:
        return ["A record cannot be merged with itself."]
    conflicts = [
        f"{learner.full_name or learner.email} (learner {learner.pk}) is archived: an archived "
        "record is not merged."
        for learner in (keep, other)
        if learner.status == LearnerStatus.ARCHIVED
    ]
    if keep.user is not None and other.user is not None:
        conflicts.append(
            f"Both records have an account ({keep.user.email} and {other.user.email}), and a "
            "person keeps one: these two cannot be merged."
        )
    shared = list(
        keep.enrollments.filter(cohort__in=other.enrollments.values("cohort"))
        .order_by("cohort__name")
        .values_list("cohort__name", flat=True)
    )
    if shared:
        conflicts.append(
            f"Both records are enrolled in {', '.join(shared)}, and a learner is enrolled once "
            "in a cohort: withdraw and keep one of the two before merging, or keep them apart."
        )
    return conflicts


def _answered_at(learner: Learner, kind: str) -> datetime:
    at = consent_answer(learner, kind).get("at")
    return datetime.fromisoformat(at) if at else datetime.min.replace(tzinfo=UTC)


def _later_consent_answers(keep: Learner, other: Learner) -> list[str]:
    """The consents whose answer on `other` is the later one, so the merged record keeps it: a
    consent withdrawn on one record is not revived by an earlier one given on the other."""
    return sorted(
        kind
        for kind in other.consent_flags or {}
        if kind not in (keep.consent_flags or {})
        or _answered_at(other, kind) > _answered_at(keep, kind)
    )


def learner_merge_plan(*, keep: Learner, other: Learner) -> MergePlan:
    """What a merge of `other` into `keep` would move, fill and keep, and what stops it: one
    query (the cohorts both are enrolled in) beyond the two records and their accounts."""
    filled, differing = [], []
    for name in MERGE_FIELDS:
        kept, offered = getattr(keep, name), getattr(other, name)
        if offered in ("", None):
            continue
        if kept in ("", None):
            filled.append(name)
        elif kept != offered and name != "details_completed_at":
            differing.append(name)
    both_numbered = bool(keep.national_id_hash and other.national_id_hash)
    if both_numbered and keep.national_id_hash != other.national_id_hash:
        differing.append("national_id")
    return MergePlan(
        keep=keep,
        other=other,
        filled=filled,
        differing=differing,
        number_moves=bool(other.national_id_hash and not keep.national_id_hash),
        account_moves=other.user is not None and keep.user is None,
        consent_kinds=_later_consent_answers(keep, other),
        conflicts=_merge_conflicts(keep, other),
    )


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
