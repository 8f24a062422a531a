"""What the moderation pages read: the policy, the (course run, assessor) pairs with decisions
no sample covers yet and who may moderate them, the samples a person reaches and one sample's
items. Each page reads in a fixed number of queries, however many learners there are."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from accounts.permissions import reachable
from accounts.selectors import users_with_permission
from cohorts.models import Cohort
from delivery.models import CourseRun
from workplace.access import MANAGE_DELIVERY, MODERATE
from workplace.models import (
    Decision,
    Mentorship,
    ModerationItem,
    ModerationPolicy,
    ModerationSample,
    PortfolioSubmission,
    PractitionerRegistration,
    PractitionerRole,
    Verdict,
)

DECIDED = (Decision.COMPETENT, Decision.NOT_YET_COMPETENT)


def moderation_policy_current() -> ModerationPolicy:
    """The institution's policy: its row, or the defaults (unsaved) until someone sets it."""
    policy: ModerationPolicy | None = ModerationPolicy.objects.filter(pk=1).first()
    return policy or ModerationPolicy(pk=1)


def runs_managed(user: User) -> QuerySet[CourseRun]:
    """The course runs whose decisions `user` may have moderated: those of the cohorts they
    reach as someone who manages delivery."""
    if not user.may(MANAGE_DELIVERY):
        return CourseRun.objects.none()
    return CourseRun.objects.filter(cohort__in=reachable(user, Cohort.objects.all()))


def population_of(course_run: CourseRun, assessor: User) -> QuerySet[PortfolioSubmission]:
    """The decisions `assessor` made in `course_run` that no sample covers yet."""
    return PortfolioSubmission.objects.filter(
        portfolio__course_enrollment__course_run=course_run,
        assessor=assessor,
        decision__in=DECIDED,
        moderation_item__isnull=True,
    )


def mentors_in_run(course_run: CourseRun) -> QuerySet[Mentorship]:
    """The mentorships (current or past) of learners who take `course_run`: their mentors are
    not independent moderators of the run."""
    return Mentorship.objects.filter(
        placement__learner__enrollments__course_enrollments__course_run=course_run
    )


# --- The overview -----------------------------------------------------------------------------


def awaiting_moderation(user: User) -> QuerySet[Any, Any]:
    """One row per (course run, assessor) with decisions no sample covers yet, in the runs
    `user` manages: the run's and assessor's ids and names, the number of decisions and of
    "not yet competent" among them."""
    return (
        PortfolioSubmission.objects.filter(
            portfolio__course_enrollment__course_run__in=runs_managed(user),
            decision__in=DECIDED,
            assessor__isnull=False,
            moderation_item__isnull=True,
        )
        .values(
            "assessor_id",
            run_id=F("portfolio__course_enrollment__course_run_id"),
            run_ref=F("portfolio__course_enrollment__course_run__course_ref"),
            run_title=F("portfolio__course_enrollment__course_run__title"),
            run_starts=F("portfolio__course_enrollment__course_run__start_date"),
            programme_id=F("portfolio__course_enrollment__course_run__course__programme_id"),
            assessor_name=F("assessor__full_name"),
            assessor_email=F("assessor__email"),
        )
        .annotate(
            decisions=Count("pk"),
            nyc=Count("pk", filter=Q(decision=Decision.NOT_YET_COMPETENT)),
        )
        .order_by("-run_starts", "run_ref", "run_id", "assessor_name", "assessor_id")
    )


@dataclass
class AwaitingPair:
    """A row of the overview, with the people who may be given its sample."""

    run_id: int
    run_label: str
    assessor_id: int
    assessor_name: str
    decisions: int
    nyc: int
    moderators: list[User] = field(default_factory=list)


def moderators_for(
    rows: list[dict[str, Any]], *, on: datetime.date | None = None
) -> list[AwaitingPair]:
    """`rows` (of `awaiting_moderation`) with their candidate moderators: active people who
    hold delivery.moderate_results and an active, unexpired moderator registration covering
    the run's programme; never the assessor, nor a mentor of a learner of the run."""
    on = on or timezone.localdate()
    programme_ids = {row["programme_id"] for row in rows}
    run_ids = {row["run_id"] for row in rows}
    covering: dict[int, set[int]] = defaultdict(set)
    for programme_id, user_id in PractitionerRegistration.scope.through.objects.filter(
        programme_id__in=programme_ids,
        practitionerregistration__role=PractitionerRole.MODERATOR,
        practitionerregistration__is_active=True,
        practitionerregistration__expires_on__gte=on,
        practitionerregistration__user__in=users_with_permission(MODERATE),
    ).values_list("programme_id", "practitionerregistration__user_id"):
        covering[programme_id].add(user_id)
    people = {
        user.pk: user
        for user in User.objects.filter(
            pk__in={pk for ids in covering.values() for pk in ids}
        ).order_by("full_name", "email")
    }
    mentoring: dict[int, set[int]] = defaultdict(set)
    for mentor_id, run_id in (
        Mentorship.objects.filter(
            mentor_id__in=people,
            placement__learner__enrollments__course_enrollments__course_run_id__in=run_ids,
        )
        .values_list(
            "mentor_id", "placement__learner__enrollments__course_enrollments__course_run_id"
        )
        .distinct()
    ):
        mentoring[run_id].add(mentor_id)
    return [
        AwaitingPair(
            run_id=row["run_id"],
            run_label=f"{row['run_ref']} {row['run_title']}",
            assessor_id=row["assessor_id"],
            assessor_name=row["assessor_name"] or row["assessor_email"],
            decisions=row["decisions"],
            nyc=row["nyc"],
            moderators=[
                user
                for pk, user in people.items()
                if pk in covering[row["programme_id"]]
                and pk != row["assessor_id"]
                and pk not in mentoring[row["run_id"]]
            ],
        )
        for row in rows
    ]


# --- Samples ----------------------------------------------------------------------------------


def _samples_reached(user: User) -> Q:
    reach = Q(pk__in=[])
    if user.may(MODERATE):
        reach |= Q(moderator=user)
    if user.may(MANAGE_DELIVERY):
        reach |= Q(course_run__in=runs_managed(user))
    return reach


def samples_for(user: User, *, own_only: bool = False) -> QuerySet[ModerationSample]:
    """The samples `user` reaches (as their moderator, or managing delivery in the run's
    cohort; only their own with `own_only`), open ones first, with their items counted."""
    reach = Q(moderator=user) if own_only else _samples_reached(user)
    return (
        ModerationSample.objects.filter(reach)
        .select_related("course_run", "assessor", "moderator")
        .annotate(
            covered=Count("items"),
            sampled=Count("items", filter=Q(items__in_sample=True)),
            pending=Count("items", filter=Q(items__in_sample=True, items__verdict=Verdict.PENDING)),
        )
        .order_by("-status", "-drawn_at", "-pk")
    )


def sample_for(user: User, pk: int) -> ModerationSample:
    """The sample `pk` if `user` reaches it (ModerationSample.DoesNotExist otherwise)."""
    sample: ModerationSample = (
        ModerationSample.objects.filter(_samples_reached(user))
        .select_related(
            "course_run__course__programme", "assessor", "moderator", "moderator_registration"
        )
        .get(pk=pk)
    )
    return sample


def sample_items(sample: ModerationSample) -> list[ModerationItem]:
    """Every decision the sample covers, the sampled ones first, by learner and outcome; each
    with `latest_number`, its portfolio's latest submission (a higher one supersedes it)."""
    latest = (
        PortfolioSubmission.objects.filter(portfolio=OuterRef("submission__portfolio"))
        .order_by("-number")
        .values("number")[:1]
    )
    return list(
        ModerationItem.objects.filter(sample=sample)
        .select_related(
            "submission__portfolio__outcome",
            "submission__portfolio__course_enrollment__enrollment__learner",
        )
        .annotate(latest_number=Subquery(latest))
        .order_by(
            "-in_sample",
            "submission__portfolio__course_enrollment__enrollment__learner__last_name",
            "submission__portfolio__course_enrollment__enrollment__learner__first_name",
            "submission__portfolio__course_enrollment_id",
            "submission__portfolio__outcome__position",
            "submission__portfolio__outcome__code",
            "pk",
        )
    )
