"""Finance's test world, on workplace learning's (a programme, a running cohort with a course
run, learners enrolled in both with active placements at a host organisation): two finance
users (so that one can confirm what the other asked for), the cohort's sponsor, the
programme's fee on every learner's place, and an agent and a broker who brought every learner.
Rows are written directly (test setup, not the services)."""

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import SystemRole, User
from delivery.models import CourseEnrollment
from partners.models import (
    CommissionBasis,
    CommissionTrigger,
    LearnerIntroduction,
    Partner,
    PartnerKind,
)
from sponsors.models import Sponsor
from tests.factories import UserFactory
from tests.workplace.support import Placed, Workplace, workplace_world

FEE = Decimal("4500.00")


@dataclass
class Finance:
    workplace: Workplace
    finance: User
    second_finance: User
    sponsor: Sponsor
    agent: Partner
    broker: Partner

    @property
    def admin(self) -> User:
        return self.workplace.admin

    @property
    def placed(self) -> list[Placed]:
        return self.workplace.placed

    @property
    def learner(self) -> Placed:
        return self.workplace.learner

    def learners_add(self, count: int) -> list[Placed]:
        """`count` more placed learners, with the fee and introduced by the agent and broker."""
        added = self.workplace.learners_add(count)
        _finance_details(self, added)
        return added


def _finance_details(world: Finance, placed: list[Placed]) -> None:
    CourseEnrollment.objects.filter(pk__in=[p.course_enrollment.pk for p in placed]).update(
        fee_amount=FEE, fee_currency="ZAR", subsidy_info="Paid by the sponsor"
    )
    for one in placed:
        one.course_enrollment.refresh_from_db()
    LearnerIntroduction.objects.bulk_create(
        LearnerIntroduction(learner=p.learner, agent=world.agent, broker=world.broker)
        for p in placed
    )


def partner_make(kind: str, code: str, **fields) -> Partner:
    partner: Partner = Partner.objects.create(
        kind=kind,
        code=code,
        name=fields.pop("name", f"{kind.title()} {code}"),
        contact_name=fields.pop("contact_name", "Sipho Contact"),
        email=fields.pop("email", f"{code.lower()}@partners.example"),
        **fields,
    )
    return partner


def finance_world(admin: User, *, learners: int = 1) -> Finance:
    """The world described above, with `learners` placed learners."""
    workplace = workplace_world(admin, learners=0)
    sponsor = Sponsor.objects.create(
        company_name="Umoya Mining (Pty) Ltd",
        contact_name="Thandi Sponsor",
        contact_email="thandi@umoya.example",
        tax_number="4123456789",
    )
    cohort = workplace.run.cohort
    cohort.sponsor = sponsor
    cohort.save(update_fields=["sponsor"])
    programme = workplace.programme
    programme.fee_amount, programme.fee_currency = FEE, "ZAR"
    programme.save(update_fields=["fee_amount", "fee_currency"])
    world = Finance(
        workplace=workplace,
        finance=UserFactory(roles=[SystemRole.FINANCE], full_name="Fatima Finance"),
        second_finance=UserFactory(roles=[SystemRole.FINANCE], full_name="Frank Finance"),
        sponsor=sponsor,
        agent=partner_make(
            PartnerKind.AGENT,
            "AG-001",
            name="Ikhaya Recruitment",
            commission_trigger=CommissionTrigger.ENROLMENT,
            commission_basis=CommissionBasis.PERCENT_OF_FEE,
            commission_value=Decimal("10.00"),
        ),
        broker=partner_make(
            PartnerKind.BROKER,
            "BR-001",
            name="Bridge Placements",
            commission_trigger=CommissionTrigger.PLACEMENT,
            commission_basis=CommissionBasis.FIXED,
            commission_value=Decimal("750.00"),
        ),
    )
    world.learners_add(learners)
    return world
