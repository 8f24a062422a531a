"""What the partners' pages read: the list with its filters, one partner's page (its bank
account, changes, contacts), the learners it brought with their cohorts, the learners to add as
its candidates, and one learner's introduction. Each reads a fixed number of queries whatever
the number of rows."""

from django.db.models import Count, Prefetch, Q, QuerySet

from enrolments.models import CohortEnrollment
from learners.models import Learner
from partners.access import candidates_of
from partners.models import (
    BankAccount,
    BankAccountChange,
    LearnerIntroduction,
    Partner,
    PartnerContact,
)

ACTIVE_CHOICES = [("active", "Active"), ("inactive", "Deactivated")]


def partner_list(*, search: str = "", kind: str = "", active: str = "") -> QuerySet[Partner]:
    """Agents and brokers by name, each with `candidates` (the learners it brought). `search`
    matches the name, code or contact person; `active` is "active" or "inactive"."""
    partners = Partner.objects.annotate(
        candidates=Count("agent_introductions", distinct=True)
        + Count("broker_introductions", distinct=True)
    )
    if kind:
        partners = partners.filter(kind=kind)
    if active:
        partners = partners.filter(is_active=active == "active")
    if search:
        term = " ".join(search.split())
        partners = partners.filter(
            Q(name__icontains=term) | Q(code__icontains=term) | Q(contact_name__icontains=term)
        )
    return partners.order_by("name", "pk")


def partner_page(*, pk: int) -> Partner:
    """One partner with its contacts (DoesNotExist when there is none)."""
    partner: Partner = Partner.objects.prefetch_related(
        Prefetch("contacts", queryset=PartnerContact.objects.select_related("user"))
    ).get(pk=pk)
    return partner


def partner_bank_account(partner: Partner) -> BankAccount | None:
    return BankAccount.objects.select_related("confirmed_by").filter(partner=partner).first()


def partner_bank_changes(partner: Partner) -> list[BankAccountChange]:
    """Every change asked for the partner's bank details, the latest first (a pending one is
    the first)."""
    return list(
        BankAccountChange.objects.filter(partner=partner).select_related(
            "requested_by", "decided_by"
        )
    )


def _cohort_enrollments() -> Prefetch:
    return Prefetch(
        "enrollments",
        queryset=CohortEnrollment.objects.select_related("cohort").order_by("-invited_at", "pk"),
        to_attr="cohort_places",
    )


def partner_candidates(partner: Partner) -> QuerySet[Learner]:
    """The learners `partner` brought, by name, each with `cohort_places` (their cohort
    enrolments and cohorts)."""
    return (
        candidates_of(partner)
        .prefetch_related(_cohort_enrollments())
        .order_by("last_name", "first_name", "pk")
    )


def learners_to_introduce(*, search: str) -> QuerySet[Learner]:
    """Learners whose name or e-mail address matches `search` (none for an empty search), each
    with their introduction and cohorts, for adding as a partner's candidates."""
    term = " ".join(search.split())
    if not term:
        return Learner.objects.none()
    words = Q()
    for word in term.split():
        words &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return (
        Learner.objects.filter(words | Q(email__icontains=term))
        .select_related("introduction__agent", "introduction__broker")
        .prefetch_related(_cohort_enrollments())
        .order_by("last_name", "first_name", "pk")
    )


def introduction_of(learner: Learner) -> LearnerIntroduction | None:
    return (
        LearnerIntroduction.objects.select_related("agent", "broker", "updated_by")
        .filter(learner=learner)
        .first()
    )


def partners_to_choose(kind: str, current: Partner | None) -> QuerySet[Partner]:
    """The active partners of `kind`, and `current` (the one already chosen) even if it has
    since been deactivated."""
    chosen = Q(kind=kind, is_active=True)
    if current is not None:
        chosen |= Q(pk=current.pk)
    return Partner.objects.filter(chosen).order_by("name", "pk")
