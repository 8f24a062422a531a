"""Reads for the sponsor pages and the cohort page's sponsor card."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import SystemRole, User
from accounts.selectors import users_holding
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment
from learners.consents import consent_given
from learners.models import ConsentKind
from signing.models import Submission
from sponsors.models import Sponsor, SponsorAgreement

SPONSOR_ROLE = "sponsor"


@dataclass(frozen=True)
class SponsorLearnerRow:
    """A learner as the sponsor's page shows them: the name on their agreement, and their
    contact details only when they consent to sharing them with the sponsor."""

    enrollment: CohortEnrollment
    name: str
    email: str
    phone_number: str

    @property
    def shares_contact(self) -> bool:
        return bool(self.email or self.phone_number)


def sponsor_learner_rows(enrollments: list[CohortEnrollment]) -> list[SponsorLearnerRow]:
    """`enrollments` with their learners loaded (enrolments.selectors.agreements_awaiting_sponsor):
    no query."""
    rows = []
    for enrollment in enrollments:
        learner = enrollment.learner
        shares = consent_given(learner, ConsentKind.SPONSOR_SHARING)
        rows.append(
            SponsorLearnerRow(
                enrollment=enrollment,
                name=enrollment.user.full_name or learner.full_name or "A learner",
                email=enrollment.user.email if shares else "",
                phone_number=learner.phone_number if shares else "",
            )
        )
    return rows


def sponsor_list(*, search: str = "") -> QuerySet[Sponsor]:
    sponsors = Sponsor.objects.select_related("user").prefetch_related(
        Prefetch("cohorts", queryset=Cohort.objects.order_by("-start_date", "name"))
    )
    search = search.strip()
    if search:
        sponsors = sponsors.filter(
            Q(company_name__icontains=search)
            | Q(contact_name__icontains=search)
            | Q(contact_email__icontains=search)
        )
    return sponsors.order_by("company_name", "pk")


def sponsor_contact_accounts(*, keep: int | None = None) -> QuerySet[User]:
    """Active accounts with the sponsor contact role, which a sponsor's contact may have, and
    the account `keep` (the one already chosen) whatever has become of it."""
    contacts = users_holding(SystemRole.SPONSOR_CONTACT).filter(is_active=True)
    return User.objects.filter(Q(pk__in=contacts.values("pk")) | Q(pk=keep)).order_by(
        "full_name", "email"
    )


def sponsor_choices() -> QuerySet[Sponsor]:
    return Sponsor.objects.order_by("company_name", "pk")


def sponsor_submission(cohort: Cohort) -> Submission | None:
    """The newest agreement sent to the cohort's current sponsor, with its signers, if any
    (one signed by a former sponsor does not count)."""
    if cohort.sponsor_id is None:
        return None
    agreement = (
        SponsorAgreement.objects.filter(cohort=cohort, sponsor_id=cohort.sponsor_id)
        .select_related("submission__template_version")
        .prefetch_related("submission__submitters__links")
        .first()
    )
    return agreement.submission if agreement is not None else None


@dataclass(frozen=True)
class SponsorStatus:
    state: str  # not_invited / invited / expired / signed / declined / revoked
    label: str
    at: datetime | None = None
    reason: str = ""
    email: str = ""
    submission: Submission | None = None

    @property
    def can_invite(self) -> bool:
        return self.state in ("not_invited", "declined", "revoked")

    @property
    def can_resend(self) -> bool:
        """A fresh link for the agreement still waiting (the old one stops working)."""
        return self.state in ("invited", "expired")


def cohort_sponsor_status(cohort: Cohort) -> SponsorStatus:
    """The sponsor card's status. An agreement of another text than the one the institution
    signed for the cohort leaves the sponsor not invited, signed or not; so does one not signed
    and sent to another address than the current sponsor's (a former contact)."""
    submission = sponsor_submission(cohort)
    if submission is None:
        return SponsorStatus("not_invited", "Not invited")
    submitter = next(s for s in submission.submitters.all() if s.role == SPONSOR_ROLE)
    if (
        submission.template_version_id != cohort.main_template_version_id
        if cohort.main_template_version_id is not None
        else submission.template_version.template_id != cohort.main_template_id
    ):
        return SponsorStatus("not_invited", "Not invited")
    if submitter.signed_at:
        return SponsorStatus(
            "signed", "Signed", submitter.signed_at, email=submitter.email, submission=submission
        )
    if cohort.sponsor is not None and submitter.email != cohort.sponsor.contact_email.lower():
        return SponsorStatus("not_invited", "Not invited")
    if submitter.declined_at:
        return SponsorStatus(
            "declined",
            "Declined",
            submitter.declined_at,
            submitter.decline_reason,
            email=submitter.email,
        )
    if submission.status == "revoked":
        return SponsorStatus("revoked", "Link revoked", email=submitter.email)
    link = submitter.latest_link
    if link is not None and link.revoked_at is None and link.expires_at <= timezone.now():
        return SponsorStatus("expired", "Link expired", link.expires_at, email=submitter.email)
    return SponsorStatus("invited", "Invited", submitter.sent_at, email=submitter.email)


def cohorts_sponsor_unsigned(*, cohort_ids: list[int]) -> list[int]:
    """Of these cohorts, those with a sponsor who has not signed the text the institution
    signed (as cohort_sponsor_status counts a signature), in one query."""
    signed = SponsorAgreement.objects.filter(
        cohort_id=OuterRef("pk"),
        sponsor_id=OuterRef("sponsor_id"),
        submission__template_version_id=OuterRef("main_template_version_id"),
        submission__submitters__role=SPONSOR_ROLE,
        submission__submitters__signed_at__isnull=False,
    )
    return list(
        Cohort.objects.filter(pk__in=cohort_ids, sponsor__isnull=False)
        .exclude(Exists(signed))
        .values_list("pk", flat=True)
    )


def cohort_summary(cohort: Cohort) -> dict[str, Any]:
    """What the sponsor sees beside the agreement and in its notices: programme, dates and
    student numbers (enrolled and verified count students who have not withdrawn)."""
    from enrolments.models import CohortEnrollment

    enrolled = ~Q(state="withdrawn")
    counts = CohortEnrollment.objects.filter(cohort=cohort).aggregate(
        enrolled=Count("pk", filter=enrolled),
        complete=Count("pk", filter=Q(state="complete")),
        withdrawn=Count("pk", filter=Q(state="withdrawn")),
        verified=Count("pk", filter=enrolled & Q(document_verification_state="verified")),
    )
    return {"cohort": cohort, **counts}


def cohort_summary_for_signing(submission: Submission) -> dict[str, Any] | None:
    """The cohort summary beside a cohort's agreement on the signing page."""
    cohort = Cohort.objects.filter(pk=submission.subject_id).first()
    if cohort is None:
        return None
    return {"template": "sponsors/_cohort_summary.html", **cohort_summary(cohort)}
