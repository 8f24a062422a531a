from dataclasses import dataclass, field
from datetime import date
from typing import cast

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse

from accounts.models import User
from accounts.permissions import reachable
from accounts.selectors import manager_emails_to_tell, users_with_permission
from cohorts.models import (
    ARCHIVED,
    CLOSED_STATES,
    Cohort,
    CohortState,
    CohortUserObjectPermission,
    DocumentType,
)
from cohorts.signals import cohort_completion_blockers_asked, cohort_work_asked
from enrolments.models import EnrollmentState
from signing.documents import body_fill_for_reading, placeholder_values
from signing.selectors import standard_merge_values


def cohorts_visible_to(user: User) -> QuerySet[Cohort]:
    """Every cohort for those whose roles reach all of them; the others only those given to
    them (an object grant, django-guardian)."""
    return reachable(user, Cohort.objects.all())


def reviewers_to_choose() -> QuerySet[User]:
    """The people who may review documents only in the cohorts they are given."""
    return users_with_permission("verification.review_documents").exclude(
        pk__in=users_with_permission("cohorts.access_all_cohorts").values("pk")
    )


def cohort_list_for_admin(
    *, user: User, search: str = "", state: str = "", program_type: str = ""
) -> QuerySet[Cohort]:
    """The cohort list with each cohort's student count, in a constant number of queries.
    Archived cohorts are left out unless `state` is ARCHIVED."""
    cohorts = cohorts_visible_to(user).annotate(
        enrolled=Count("enrollments", filter=~Q(enrollments__state=EnrollmentState.WITHDRAWN)),
        completed=Count("enrollments", filter=Q(enrollments__state=EnrollmentState.COMPLETE)),
    )
    if search:
        cohorts = cohorts.filter(name__icontains=search)
    if state == ARCHIVED:
        cohorts = cohorts.filter(archived_at__isnull=False)
    else:
        cohorts = cohorts.filter(archived_at__isnull=True)
        if state:
            cohorts = cohorts.filter(state=state)
    if program_type:
        cohorts = cohorts.filter(program_type=program_type)
    return cohorts.order_by("-start_date", "name")


def cohorts_due_for_archiving(*, ended_before: date) -> QuerySet[Cohort]:
    """The completed cohorts that ended before `ended_before` and are not archived yet, oldest
    first (the data protection job's archive list)."""
    due: QuerySet[Cohort] = Cohort.objects.filter(
        state=CohortState.COMPLETED, archived_at__isnull=True, end_date__lt=ended_before
    ).order_by("end_date", "pk")
    return due


def cohort_state_counts(*, user: User) -> dict[str, int]:
    counts = dict(cohorts_visible_to(user).values_list("state").annotate(n=Count("pk")).order_by())
    return {state: counts.get(state, 0) for state in CohortState.values}


def cohort_for_dashboard(*, user: User, pk: int) -> Cohort:
    return (
        cohorts_visible_to(user)
        .select_related("main_template", "admin_signed_by", "sponsor")
        .get(pk=pk)
    )


@dataclass(frozen=True)
class CohortVerifiers:
    """The institution's active verifiers, split by whether they may review one cohort."""

    reviewers: list[User]
    others: list[User]


def cohort_verifiers(*, cohort: Cohort) -> CohortVerifiers:
    """The dashboard's reviewer list and its "add reviewer" choices, in one query."""
    granted = CohortUserObjectPermission.objects.filter(
        content_object=cohort, user=OuterRef("pk"), permission__codename="review_cohort"
    )
    verifiers = (
        reviewers_to_choose().annotate(is_reviewer=Exists(granted)).order_by("full_name", "email")
    )
    split = CohortVerifiers(reviewers=[], others=[])
    for verifier in verifiers:
        (split.reviewers if verifier.is_reviewer else split.others).append(verifier)
    return split


def responsible_admin_choices(*, cohort: Cohort) -> QuerySet[User]:
    """Who may be responsible for `cohort`: the active people who may manage cohorts and work
    in this one (every cohort, or this one given to them)."""
    granted = CohortUserObjectPermission.objects.filter(
        content_object=cohort, permission__codename="review_cohort"
    ).values("user_id")
    everywhere = users_with_permission("cohorts.access_all_cohorts").values("pk")
    return users_with_permission("cohorts.manage_cohorts").filter(
        Q(pk__in=everywhere) | Q(pk__in=granted)
    )


def cohort_people_to_tell(cohort: Cohort) -> list[str]:
    """The addresses told of a decline or a decision in `cohort`: its responsible admins who
    can still act on it; when none can, as before responsible admins existed (the creator
    while an admin, else every active admin), so that the news always reaches someone."""
    addresses = list(
        cohort.responsible_admins.filter(pk__in=responsible_admin_choices(cohort=cohort))
        .order_by("email")
        .values_list("email", flat=True)
    )
    return addresses or manager_emails_to_tell(cohort.created_by)


def document_type_list() -> QuerySet[DocumentType]:
    return DocumentType.objects.annotate(cohort_count=Count("cohorts")).order_by(
        "-is_active", "name"
    )


def main_agreement_preview_html(cohort: Cohort, *, admin: User) -> str:
    """The cohort's main agreement filled in as `admin` is about to sign it; a value still
    missing (the institution's registration number, say) reads as what it stands for here,
    and signing then says what to fill in."""
    if cohort.main_template is None:
        raise ValueError("The cohort has no main agreement to preview.")
    return body_fill_for_reading(
        cohort.main_template.body,
        standard_merge_values() | cohort_merge_fields(cohort, admin=admin),
    )


# What an agreement says for a registration or tax number the party does not have on record.
NOT_REGISTERED = "(none on record)"


def cohort_merge_fields(
    cohort: Cohort, *, admin: User | None = None, student: dict[str, str] | None = None
) -> dict[str, str]:
    """The values of the merge fields (signing.models.MERGE_FIELDS) of one copy of the cohort's
    agreement. The same template is the main agreement the admin signs, each student's and the
    sponsor's, so each copy gets the cohort's values, its sponsor's, and the admin's who signs
    (`admin`) or signed it for the institution; the student's come with the student's copy.
    A party a copy is not for (no student on the admin's copy, no sponsor chosen yet) reads as
    what the field stands for, such as "[The student's full name]", so that every copy of a
    template can be made."""
    values = placeholder_values("student", "sponsor", "admin")
    values |= {
        "cohort.name": cohort.name,
        "cohort.program_type": cohort.get_program_type_display(),
        "cohort.start_date": cohort.start_date.strftime("%-d %B %Y"),
        "cohort.end_date": cohort.end_date.strftime("%-d %B %Y"),
    }
    if cohort.sponsor is not None:
        values |= {
            "sponsor.company_name": cohort.sponsor.company_name,
            "sponsor.contact_name": cohort.sponsor.contact_name,
            "sponsor.tax_number": cohort.sponsor.tax_number or NOT_REGISTERED,
        }
    admin = admin or cohort.admin_signed_by
    if admin is not None:
        values["admin.full_name"] = admin.full_name or admin.email
    return values | (student or {})


def cohort_completion_blockers(cohort: Cohort) -> list[str]:
    """Why the cohort may not complete yet (empty: it may), as the apps built on cohorts
    answer (cohorts.signals): unfinished or unverified enrolments, an unsigned sponsor."""
    answers = cohort_completion_blockers_asked.send(sender=Cohort, cohort=cohort)
    # django-stubs types a receiver's answer as str | None; these receivers answer lists.
    return [blocker for _receiver, blockers in answers for blocker in cast(list[str], blockers)]


@dataclass(frozen=True)
class CohortWorkItem:
    """One kind of work waiting in a cohort, such as "3 documents to review", and where it is
    done."""

    label: str
    url: str
    # Where it comes in the cohort's list: the main agreement 10, documents 20, agreements to
    # countersign 30, invitations 40, the sponsor 50.
    rank: int = 100


@dataclass
class CohortWork:
    cohort: Cohort
    is_responsible: bool
    items: list[CohortWorkItem] = field(default_factory=list)


@dataclass(frozen=True)
class CohortWorkPanel:
    """The admin's start page: their open cohorts with what waits in each (theirs first), or,
    while the institution has no cohort at all, the first steps."""

    cohorts: list[CohortWork]
    more: bool  # open cohorts beyond those listed
    first_steps: bool
    has_sponsor: bool = False


HOME_COHORTS = 8


def cohort_work_for_home(*, user: User, limit: int = HOME_COHORTS) -> CohortWorkPanel:
    """The open cohorts `user` reaches, those they are responsible for first, each with the
    work the apps built on cohorts report waiting (cohorts.signals.cohort_work_asked), in a
    number of queries that does not grow with the number of cohorts."""
    responsible = Cohort.responsible_admins.through.objects.filter(
        cohort_id=OuterRef("pk"), user_id=user.pk
    )
    cohorts = list(
        cohorts_visible_to(user)
        .exclude(state__in=CLOSED_STATES)
        .annotate(is_responsible=Exists(responsible))
        .order_by("-is_responsible", "-start_date", "name", "pk")[: limit + 1]
    )
    if not cohorts:
        if Cohort.objects.exists():
            return CohortWorkPanel(cohorts=[], more=False, first_steps=False)
        # Through the cohort's own relation: cohorts sits below sponsors and never imports it.
        sponsors = Cohort._meta.get_field("sponsor").related_model._default_manager
        return CohortWorkPanel(
            cohorts=[], more=False, first_steps=True, has_sponsor=sponsors.exists()
        )
    more, cohorts = len(cohorts) > limit, cohorts[:limit]
    work = {cohort.pk: CohortWork(cohort, cohort.is_responsible) for cohort in cohorts}
    for cohort in cohorts:
        if cohort.state == CohortState.DRAFT and cohort.admin_signed_at is None:
            work[cohort.pk].items.append(
                CohortWorkItem(
                    "Main agreement to sign"
                    if cohort.main_template_id
                    else "Main agreement to choose",
                    reverse(
                        "cohorts:sign" if cohort.main_template_id else "cohorts:edit",
                        args=[cohort.pk],
                    ),
                    rank=10,
                )
            )
    for _receiver, answer in cohort_work_asked.send(sender=Cohort, cohorts=cohorts, user=user):
        # django-stubs types a receiver's answer as str | None; these receivers answer dicts.
        for pk, items in cast(dict[int, list[CohortWorkItem]], answer).items():
            work[pk].items.extend(items)
    for row in work.values():
        row.items.sort(key=lambda item: item.rank)
    return CohortWorkPanel(cohorts=list(work.values()), more=more, first_steps=False)


def cohort_home_panel(user: User) -> dict[str, object] | None:
    """The start page's cohorts panel (accounts.home), for those who manage cohorts."""
    if not user.may("cohorts.manage_cohorts"):
        return None
    return {"work": cohort_work_for_home(user=user)}
