"""What the search, matching and urgent request tests share: learners of a cohort at given
coordinates, cleared or not, and organisation members."""

from accounts.models import SystemRole, User
from cohorts.models import Cohort
from learners.models import Learner
from placements.models import (
    LearnerLocation,
    Organisation,
    OrganisationMembership,
    ProgrammeVettingRequirement,
    VettingRecord,
    VettingStatus,
    VettingType,
)
from tests.delivery.runs_support import enrol
from tests.factories import CohortFactory, ProgrammeFactory, UserFactory


def cohort_needing_police_clearance() -> Cohort:
    programme = ProgrammeFactory(name="Teaching practice", code="TP-2027")
    ProgrammeVettingRequirement.objects.create(
        programme=programme, vetting_type=VettingType.objects.get(code="police_clearance")
    )
    return CohortFactory(active=True, programme=programme, name="Teachers 2027")


def learner_in(
    admin: User,
    cohort: Cohort,
    full_name: str,
    at: tuple[float, float] | None = None,
    *,
    cleared: bool = True,
    geocode_status: str = "entered",
) -> Learner:
    """A learner enrolled in `cohort` through the services, living at `at`, with their police
    clearance cleared or not."""
    learner = enrol(admin, cohort, full_name=full_name).learner
    if at is not None:
        LearnerLocation.objects.create(
            learner=learner, latitude=at[0], longitude=at[1], geocode_status=geocode_status
        )
    if cleared:
        VettingRecord.objects.create(
            learner=learner,
            vetting_type=VettingType.objects.get(code="police_clearance"),
            status=VettingStatus.CLEARED,
        )
    return learner


def member_of(*organisations: Organisation, current: Organisation | None = None) -> User:
    """An organisation member belonging to `organisations`, `current` (the first by default)
    the one they act for."""
    user = UserFactory(roles=[SystemRole.ORGANISATION_MEMBER])
    current = current or organisations[0]
    for organisation in organisations:
        OrganisationMembership.objects.create(
            user=user, organisation=organisation, is_current=organisation == current
        )
    return user
