"""The start page's workplace panel: what waits for a person as a workplace mentor, an
assessor or a moderator, and the learner's own logbook and portfolios (accounts.home;
registered in WorkplaceConfig.ready)."""

from typing import Any

from django.utils import timezone

from accounts.models import SystemRole, User
from placements.models import Placement
from workplace.access import ASSESS, MODERATE, placements_mentored, programmes_covered
from workplace.models import (
    LogbookWeek,
    LogbookWeekStatus,
    ModerationSample,
    Portfolio,
    PortfolioStatus,
    PractitionerRegistration,
    PractitionerRole,
    SampleStatus,
)


def workplace_home_panel(user: User) -> dict[str, Any] | None:
    """Counts of what waits for `user`; None when they are none of mentor, assessor, moderator
    or placed learner (read only for holders of those roles: no query for anyone else)."""
    keys = user.role_keys
    panel: dict[str, Any] = {}
    if SystemRole.ORGANISATION_MEMBER in keys:
        mentored = placements_mentored(user)
        if mentored.exists():
            panel["weeks_to_review"] = LogbookWeek.objects.filter(
                placement__in=mentored, status=LogbookWeekStatus.SUBMITTED
            ).count()
            panel["mentees"] = mentored.count()
    if user.may(ASSESS) or user.may(MODERATE):
        # One query for everyone who may assess or moderate; the counts only for the registered.
        registered = set(
            PractitionerRegistration.objects.filter(
                user=user, is_active=True, expires_on__gte=timezone.localdate()
            ).values_list("role", flat=True)
        )
        if PractitionerRole.ASSESSOR in registered and user.may(ASSESS):
            panel["to_assess"] = Portfolio.objects.filter(
                status=PortfolioStatus.SUBMITTED,
                outcome__course__programme__in=programmes_covered(user, PractitionerRole.ASSESSOR),
            ).count()
        if PractitionerRole.MODERATOR in registered and user.may(MODERATE):
            panel["samples_open"] = ModerationSample.objects.filter(
                moderator=user, status=SampleStatus.OPEN
            ).count()
    if SystemRole.STUDENT in keys and Placement.objects.filter(learner__user=user).exists():
        panel["learner"] = True
        panel["weeks_returned"] = LogbookWeek.objects.filter(
            placement__learner__user=user, status=LogbookWeekStatus.RETURNED
        ).count()
        panel["portfolios_decided"] = Portfolio.objects.filter(
            course_enrollment__enrollment__learner__user=user,
            status=PortfolioStatus.NOT_YET_COMPETENT,
        ).count()
    return panel or None
