"""Who reaches which placement's logbook and which portfolio. Every workplace page and service
asks here; anything else is the audited 404 of accounts.permissions.

- The learner: their own placements and portfolios.
- The workplace mentor: the placements they currently mentor at their current organisation
  (placements.access), while they hold the organisation member role and belong to it.
- Assessors: portfolios handed in at least once, of outcomes whose programme their active,
  unexpired assessor registration covers.
- Moderators: the portfolios in the samples they are given.
- Staff: who manages placements reaches every logbook; who manages delivery the portfolios of
  the cohorts they reach."""

import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from academics.models import Programme
from accounts.models import SystemRole, User
from accounts.permissions import reachable
from cohorts.models import Cohort
from delivery.models import CourseEnrollment
from placements.access import current_organisation
from placements.models import OrganisationMembership, Placement
from workplace.models import (
    Mentorship,
    ModerationItem,
    Portfolio,
    PortfolioSubmission,
    PractitionerRegistration,
    PractitionerRole,
)

MANAGE_PLACEMENTS = "placements.manage_placements"
MANAGE_DELIVERY = "delivery.manage_delivery"
MANAGE_PRACTITIONERS = "workplace.manage_practitioners"
ASSESS = "workplace.assess_portfolios"
MODERATE = "delivery.moderate_results"


def placements_mentored(user: User) -> QuerySet[Placement]:
    """The placements `user` mentors now, at the organisation they act for."""
    if not user.is_authenticated or SystemRole.ORGANISATION_MEMBER not in user.role_keys:
        return Placement.objects.none()
    organisation = current_organisation(user)
    if organisation is None:
        return Placement.objects.none()
    return Placement.objects.filter(
        Exists(
            Mentorship.objects.filter(placement=OuterRef("pk"), mentor=user, ended_at__isnull=True)
        ),
        Exists(
            OrganisationMembership.objects.filter(organisation=OuterRef("organisation"), user=user)
        ),
        organisation=organisation,
    )


def is_mentor(user: User, placement: Placement) -> bool:
    return placements_mentored(user).filter(pk=placement.pk).exists()


def logbook_placements(user: User) -> QuerySet[Placement]:
    """Every placement whose logbook `user` may read."""
    if not user.is_authenticated:
        return Placement.objects.none()
    if user.may(MANAGE_PLACEMENTS):
        return Placement.objects.all()
    own = Placement.objects.filter(learner__user=user, learner__user__isnull=False)
    return own | placements_mentored(user)


def registration_valid(
    user: User, role: str, programme: Programme | int, *, on: datetime.date | None = None
) -> PractitionerRegistration | None:
    """`user`'s active registration as `role` that covers `programme` and has not expired on
    `on` (today in the institution's time zone): what assessing or moderating needs."""
    on = on or timezone.localdate()
    programme_id = programme if isinstance(programme, int) else programme.pk
    registration: PractitionerRegistration | None = (
        PractitionerRegistration.objects.filter(
            user=user, role=role, is_active=True, expires_on__gte=on, scope=programme_id
        )
        .order_by("-expires_on")
        .first()
    )
    return registration


def programmes_covered(
    user: User, role: str, *, on: datetime.date | None = None
) -> QuerySet[Programme]:
    """The programmes `user`'s active, unexpired registrations as `role` cover."""
    on = on or timezone.localdate()
    return Programme.objects.filter(
        Exists(
            PractitionerRegistration.scope.through.objects.filter(
                programme=OuterRef("pk"),
                practitionerregistration__user=user,
                practitionerregistration__role=role,
                practitionerregistration__is_active=True,
                practitionerregistration__expires_on__gte=on,
            )
        )
    )


def portfolios_for(user: User) -> QuerySet[Portfolio]:
    """Every portfolio `user` may open."""
    if not user.is_authenticated:
        return Portfolio.objects.none()
    reach = Q(course_enrollment__enrollment__learner__user=user)
    if user.may(MANAGE_DELIVERY):
        # Staff limited to some cohorts (accounts.permissions scopes) reach only theirs, as in
        # delivery.access.
        reach |= Q(course_enrollment__enrollment__cohort__in=reachable(user, Cohort.objects.all()))
    if user.may(ASSESS):
        # Handed in at least once: a draft is the learner's own until then.
        reach |= Q(
            Exists(PortfolioSubmission.objects.filter(portfolio=OuterRef("pk"))),
            outcome__course__programme__in=programmes_covered(user, PractitionerRole.ASSESSOR),
        )
    if user.may(MODERATE):
        reach |= Q(
            Exists(
                ModerationItem.objects.filter(
                    submission__portfolio=OuterRef("pk"), sample__moderator=user
                )
            )
        )
    return Portfolio.objects.filter(reach)


def is_own_course_enrollment(user: User, course_enrollment_id: int) -> bool:
    """Whether the course enrolment is `user`'s own (their learner record's)."""
    return (
        user.is_authenticated
        and CourseEnrollment.objects.filter(
            pk=course_enrollment_id,
            enrollment__learner__user=user,
            enrollment__learner__user__isnull=False,
        ).exists()
    )


def is_own_portfolio(user: User, portfolio: Portfolio) -> bool:
    return is_own_course_enrollment(user, portfolio.course_enrollment_id)
