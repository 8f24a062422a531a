"""A placement's world, as the lifecycle tests need it: a programme that requires a police
clearance, a running cohort of it with a learner who has an account, a host organisation with
a contact, a member and places for Mathematics in 2027, and a proposed placement there."""

import datetime
from dataclasses import dataclass

from accounts.models import SystemRole, User
from cohorts.models import Cohort
from learners.models import Learner
from placements.models import (
    Organisation,
    OrganisationContact,
    OrganisationMembership,
    Placement,
    ProgrammeVettingRequirement,
    UrgentAnswer,
    UrgentPlacementInvite,
    UrgentPlacementRequest,
    VettingRecord,
    VettingStatus,
    VettingType,
)
from placements.services.placements import Proposal, placements_propose
from tests.delivery.runs_support import enrol
from tests.factories import CohortFactory, ProgrammeFactory, UserFactory
from tests.placements.factories import (
    ContactFactory,
    OrganisationFactory,
    academic_year,
    preference,
    subject,
)

STARTS_ON = datetime.date(2027, 3, 1)
ENDS_ON = datetime.date(2027, 6, 30)


@dataclass
class World:
    admin: User
    cohort: Cohort
    police: VettingType
    organisation: Organisation
    contact: OrganisationContact
    member: User

    def learner(self, full_name: str = "Sipho Learner", *, cleared: bool = True) -> Learner:
        """A learner enrolled in the cohort (with an account), cleared unless told."""
        learner: Learner = enrol(self.admin, self.cohort, full_name=full_name).learner
        if cleared:
            clear(learner, self.police)
        return learner

    def propose(self, learner: Learner, **changes) -> Placement:
        fields = {
            "learner": learner,
            "organisation": self.organisation,
            "cohort": self.cohort,
            "academic_year": academic_year("2027"),
            "subject": subject("MATH"),
            "starts_on": STARTS_ON,
            "ends_on": ENDS_ON,
            "supervisor": self.contact,
            **changes,
        }
        [placement] = placements_propose(actor=self.admin, proposals=[Proposal(**fields)])
        return placement


def clear(learner: Learner, vetting_type: VettingType, **fields) -> VettingRecord:
    record: VettingRecord = VettingRecord.objects.create(
        learner=learner, vetting_type=vetting_type, status=VettingStatus.CLEARED, **fields
    )
    return record


def member_of(organisation: Organisation, **fields) -> User:
    """An organisation member whose current organisation is `organisation`."""
    user: User = UserFactory(roles=[SystemRole.ORGANISATION_MEMBER], **fields)
    OrganisationMembership.objects.create(user=user, organisation=organisation, is_current=True)
    return user


def world(admin: User, *, places: int = 1, name: str = "Hillview High") -> World:
    programme = ProgrammeFactory()
    police = VettingType.objects.get(code="police_clearance")
    ProgrammeVettingRequirement.objects.create(programme=programme, vetting_type=police)
    cohort = CohortFactory(active=True, programme=programme)
    organisation = OrganisationFactory(name=name)
    if places:
        preference(organisation, academic_year("2027"), places={("MATH", "secondary"): places})
    contact = ContactFactory(organisation=organisation, first_name="Thandi", last_name="Nkosi")
    return World(
        admin=admin,
        cohort=cohort,
        police=police,
        organisation=organisation,
        contact=contact,
        member=member_of(organisation, full_name="Nomsa Member"),
    )


def urgent_request(
    here: World,
    *,
    code: str = "ENG",
    answer: str = UrgentAnswer.CAN_HOST,
    places_offered: int | None = 2,
) -> UrgentPlacementRequest:
    """An urgent request for `code` over the placement dates, which the world's organisation
    answered (can host `places_offered`, by default)."""
    wanted = subject(code)
    request: UrgentPlacementRequest = UrgentPlacementRequest.objects.create(
        subject=wanted,
        phase=wanted.phase,
        academic_year=academic_year("2027"),
        starts_on=STARTS_ON,
        ends_on=ENDS_ON,
        places=3,
        latitude=-26.2041,
        longitude=28.0473,
        radius_km=30,
        created_by=here.admin,
    )
    UrgentPlacementInvite.objects.create(
        request=request,
        organisation=here.organisation,
        distance_km=4.5,
        answer=answer,
        places_offered=places_offered if answer == UrgentAnswer.CAN_HOST else None,
    )
    return request
