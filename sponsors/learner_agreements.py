"""The sponsor signs a cohort's learner agreements from one e-mailed link: the cohort page
sends it, the sponsor's page lists the agreements waiting for the sponsor, and the sponsor
signs one at a time or all at once (after reading the list), or declines one with a reason."""

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from accounts.services import token_hash
from audit.services import audit_record
from cohorts.models import Cohort, CohortState
from enrolments.selectors import agreements_awaiting_sponsor
from notifications.services import email_enqueue
from signing.models import SignerRole, Submission
from signing.services.completion import submitter_decline_in_place, submitter_sign_in_place
from sponsors.models import SponsorLearnerLink
from tenants.db import tenant_connection
from tenants.sites import institution_url
from tenants.zones import moment_text


def sponsor_learner_link_for_token(token: str) -> SponsorLearnerLink | None:
    return (
        SponsorLearnerLink.objects.select_related("cohort", "sponsor")
        .filter(token_hash=token_hash(token))
        .first()
    )


def sponsor_learner_agreements_invite(*, cohort: Cohort, actor: User) -> str:
    """E-mail the cohort's sponsor contact the link to the page where they sign the learners'
    agreements (the link sent before stops working); returns its URL."""
    permission_check(
        actor=actor,
        permission="sponsors.manage_sponsors",
        obj=cohort,
        action="sponsor.learner_agreements_invite",
    )
    with transaction.atomic(durable=True):
        cohort = (
            Cohort.objects.select_for_update(of=("self",))
            .select_related("sponsor")
            .get(pk=cohort.pk)
        )
        if cohort.state != CohortState.ACTIVE:
            raise ValidationError(
                "The sponsor signs the learners' agreements once the cohort runs."
            )
        sponsor = cohort.sponsor
        if sponsor is None:
            raise ValidationError("Choose the cohort's sponsor first.")
        now = timezone.now()
        SponsorLearnerLink.objects.filter(cohort=cohort, revoked_at__isnull=True).update(
            revoked_at=now
        )
        token = secrets.token_urlsafe(32)  # 256 bits
        days = tenant_connection.tenant.signing_link_days
        link = SponsorLearnerLink.objects.create(
            cohort=cohort,
            sponsor=sponsor,
            email=sponsor.contact_email.lower(),
            token_hash=token_hash(token),
            expires_at=now + datetime.timedelta(days=days),
        )
        url = institution_url(
            tenant_connection.tenant, reverse("sponsor_public:learner_agreements", args=[token])
        )
        waiting = agreements_awaiting_sponsor(cohort=cohort).count()
        email_enqueue(
            recipient=sponsor.contact_email,
            template="sponsor_learner_agreements",
            context={
                "full_name": sponsor.contact_name,
                "company_name": sponsor.company_name,
                "cohort_name": cohort.name,
                "waiting": waiting,
                "sign_url": url,
                "expires_at": moment_text(link.expires_at),
            },
        )
        audit_record(
            actor=actor,
            action="sponsor.learner_agreements_invited",
            entity=cohort,
            new_values={"sponsor": sponsor.pk, "link": link.pk, "waiting": waiting},
        )
    return url


def _waiting_ids(link: SponsorLearnerLink) -> set[int]:
    return {
        enrollment.latest_agreement_id  # type: ignore[attr-defined]
        for enrollment in agreements_awaiting_sponsor(cohort=link.cohort)
    }


def _check_link(link: SponsorLearnerLink, submission_ids: list[int]) -> list[Submission]:
    link = SponsorLearnerLink.objects.select_related("cohort", "sponsor").get(pk=link.pk)
    if not link.is_usable:
        raise ValidationError("This link no longer works. Ask the institution for a new one.")
    waiting = _waiting_ids(link)
    if not submission_ids:
        raise ValidationError({"agreements": "Choose at least one agreement."})
    if not waiting.issuperset(submission_ids):
        raise ValidationError(
            {"agreements": "Some of these agreements no longer wait for your signature. The "
             "list is up to date: choose again."}
        )  # fmt: skip
    # Only agreements whose sponsor signer is this link's address.
    submissions = list(
        Submission.objects.filter(
            pk__in=submission_ids,
            submitters__role=SignerRole.SPONSOR,
            submitters__email__iexact=link.email,
        ).order_by("pk")
    )
    if len(submissions) != len(set(submission_ids)):
        raise ValidationError({"agreements": "Some of these agreements are not yours to sign."})
    return submissions


def sponsor_learner_agreements_sign(
    *,
    link: SponsorLearnerLink,
    submission_ids: list[int],
    signed_name: str,
    signature_text: str,
    consent: bool,
    read_all: bool = True,
) -> int:
    """Sign the chosen learner agreements for the sponsor, each in its own transaction (its
    own signature and trail entry); returns how many. Signing several at once needs the
    sponsor to say they have read each of them (`read_all`)."""
    errors: dict[str, str] = {}
    if len(set(submission_ids)) > 1 and not read_all:
        errors["read_all"] = "Tick the box to confirm that you have read every agreement listed."
    if not (signed_name or "").strip():
        errors["signed_name"] = "Type your full name."
    if not (signature_text or "").strip():
        errors["signature_text"] = "Type your signature."
    if not consent:
        errors["consent"] = "Tick the box to agree to sign electronically."
    if errors:
        raise ValidationError(errors)
    submissions = _check_link(link, submission_ids)
    for submission in submissions:
        submitter_sign_in_place(
            submission=submission,
            role=SignerRole.SPONSOR,
            signed_name=signed_name,
            signature_text=signature_text,
            consent=consent,
        )
    return len(submissions)


def sponsor_learner_agreement_decline(
    *, link: SponsorLearnerLink, submission_id: int, reason: str
) -> None:
    """Decline one learner's agreement for the sponsor, with a reason (the institution is
    told, and the learner sees it in the portal)."""
    [submission] = _check_link(link, [submission_id])
    submitter_decline_in_place(submission=submission, role=SignerRole.SPONSOR, reason=reason)
