"""Moderation of assessment decisions: the institution's policy (how big a sample is), drawing
a sample of one assessor's decisions in one course run for a registered moderator, the
moderator's verdicts, and completing the sample, which makes every covered result final.

Who manages delivery in every cohort sets the policy; who manages delivery in the run's cohort
draws a sample; only the sample's moderator, while they hold delivery.moderate_results and a
valid moderator registration for the run's programme, records verdicts and completes it. Every
change is checked before its transaction, runs with its rows locked and is audited."""

import math
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record, kept_out
from delivery.access import ALL_COHORTS
from delivery.models import CourseEnrollment, CourseRun
from notifications.services import email_enqueue
from tenants.db import tenant_connection
from tenants.sites import institution_url
from workplace.access import MANAGE_DELIVERY, MODERATE, registration_valid
from workplace.models import (
    Decision,
    ModerationItem,
    ModerationPolicy,
    ModerationSample,
    Portfolio,
    PortfolioStatus,
    PortfolioSubmission,
    PractitionerRegistration,
    PractitionerRole,
    SampleStatus,
    Verdict,
)
from workplace.selectors.moderation import (
    mentors_in_run,
    moderation_policy_current,
    population_of,
    runs_managed,
)

SHARE_RANGE = (1, 100)
MINIMUM_RANGE = (1, 1000)


# --- The policy -------------------------------------------------------------------------------


def moderation_policy_set(
    *, actor: User | None, share_percent: int, minimum: int
) -> ModerationPolicy:
    """Set how big a sample is: `share_percent` of an assessor's decisions (1–100), at least
    `minimum` (1–1000). The row (pk 1) is made on first use and changed under its lock;
    samples already drawn keep the values they were drawn with."""
    permission_check(actor=actor, action="moderation_policy.set", permission=MANAGE_DELIVERY)
    permission_check(actor=actor, action="moderation_policy.set", permission=ALL_COHORTS)
    errors: dict[str, list[str]] = {}
    if not SHARE_RANGE[0] <= share_percent <= SHARE_RANGE[1]:
        errors["share_percent"] = ["Give a share from 1 to 100 per cent."]
    if not MINIMUM_RANGE[0] <= minimum <= MINIMUM_RANGE[1]:
        errors["minimum"] = ["Give a minimum from 1 to 1000 decisions."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(durable=True):
        _, created = ModerationPolicy.objects.get_or_create(pk=1)
        policy = ModerationPolicy.objects.select_for_update().get(pk=1)
        old_values = {"share_percent": policy.share_percent, "minimum": policy.minimum}
        new_values = {"share_percent": share_percent, "minimum": minimum}
        if not created and old_values == new_values:
            return policy
        policy.share_percent = share_percent
        policy.minimum = minimum
        policy.updated_by = actor
        policy.save()
        audit_record(
            actor=actor,
            action="moderation_policy.set",
            entity=policy,
            old_values=None if created else old_values,
            new_values=new_values,
        )
    return policy


# --- Choosing a sample ------------------------------------------------------------------------


class Shuffler(Protocol):
    """What choosing needs of a random source: random.Random, secrets.SystemRandom."""

    def shuffle(self, x: list[Any]) -> None: ...


@dataclass(frozen=True)
class Candidate:
    """One decision of the population: its submission, whose it is and what was decided."""

    submission_id: int
    learner_key: int
    decision: str


def sample_size(population: int, *, share_percent: int, minimum: int) -> int:
    """max(minimum, share% of the population rounded up), never more than the population."""
    return min(population, max(minimum, math.ceil(population * share_percent / 100)))


def sample_choose(
    population: Sequence[Candidate], *, share_percent: int, minimum: int, rng: Shuffler
) -> set[int]:
    """The submissions (ids) in the sample: every "not yet competent", then competent decisions
    up to the sample's size, one learner at a time in an order `rng` draws: each learner once
    before anyone twice, a learner whose "not yet competent" is in the sample counting as
    sampled once already."""
    size = sample_size(len(population), share_percent=share_percent, minimum=minimum)
    chosen = {c.submission_id for c in population if c.decision != Decision.COMPETENT}
    covered = {c.learner_key for c in population if c.decision != Decision.COMPETENT}
    by_learner: dict[int, list[int]] = defaultdict(list)
    for candidate in sorted(population, key=lambda c: c.submission_id):
        if candidate.decision == Decision.COMPETENT:
            by_learner[candidate.learner_key].append(candidate.submission_id)
    learners = sorted(by_learner)
    rng.shuffle(learners)
    for submissions in by_learner.values():
        rng.shuffle(submissions)
    rounds = max((len(by_learner[key]) + (key in covered) for key in learners), default=0)
    for round_ in range(rounds):
        for learner in learners:
            if len(chosen) >= size:
                return chosen
            index = round_ - (learner in covered)
            if 0 <= index < len(by_learner[learner]):
                chosen.add(by_learner[learner][index])
    return chosen


# --- Drawing ----------------------------------------------------------------------------------


def _moderator_registration(
    moderator: User, course_run: CourseRun, assessor: User, *, field: str | None
) -> PractitionerRegistration:
    """The registration under which `moderator` may moderate `assessor`'s decisions in
    `course_run`; a ValidationError (keyed by `field`) says why not."""

    def refuse(message: str) -> ValidationError:
        return ValidationError({field: [message]} if field else message)

    if moderator.pk == assessor.pk:
        raise refuse("The assessor cannot moderate their own decisions: choose someone else.")
    if not moderator.may(MODERATE):
        raise refuse(f"{moderator} does not hold the moderator's role.")
    registration = registration_valid(
        moderator, PractitionerRole.MODERATOR, course_run.course.programme_id
    )
    if registration is None:
        raise refuse(
            f"{moderator} has no active, unexpired moderator registration covering "
            f"{course_run.course.programme}."
        )
    if CourseEnrollment.objects.filter(
        course_run=course_run, enrollment__learner__user=moderator
    ).exists():
        raise refuse(f"{moderator} is a learner of this course run: choose someone independent.")
    if mentors_in_run(course_run).filter(mentor=moderator).exists():
        raise refuse(
            f"{moderator} mentors a learner of this course run at their workplace: choose "
            "someone independent."
        )
    return registration


def sample_draw(
    *,
    actor: User | None,
    course_run: CourseRun,
    assessor: User,
    moderator: User,
    rng: Shuffler | None = None,
) -> ModerationSample:
    """Give `moderator` a sample of the decisions `assessor` made in `course_run` that no
    earlier sample covers, sized by the institution's policy (see `sample_choose`). Every one
    of those decisions becomes an item of the sample; the chosen ones are the moderator's to
    check. The run's row is locked, so two draws at once cover each decision once."""
    permission_check(
        actor=actor,
        action="moderation_sample.draw",
        permission=MANAGE_DELIVERY,
        allowed=actor is None or runs_managed(actor).filter(pk=course_run.pk).exists(),
    )
    rng = rng or secrets.SystemRandom()
    with transaction.atomic(durable=True):
        course_run = (
            CourseRun.objects.select_for_update(of=("self",))
            .select_related("course__programme")
            .get(pk=course_run.pk)
        )
        registration = _moderator_registration(moderator, course_run, assessor, field="moderator")
        population = [
            Candidate(submission_id=pk, learner_key=learner_key, decision=decision)
            for pk, learner_key, decision in population_of(course_run, assessor)
            .order_by("pk")
            .values_list("pk", "portfolio__course_enrollment_id", "decision")
        ]
        if not population:
            raise ValidationError(
                f"{assessor} has no decisions in {course_run} waiting for moderation."
            )
        policy = moderation_policy_current()
        chosen = sample_choose(
            population, share_percent=policy.share_percent, minimum=policy.minimum, rng=rng
        )
        sample: ModerationSample = ModerationSample.objects.create(
            course_run=course_run,
            assessor=assessor,
            moderator=moderator,
            moderator_registration=registration,
            share_percent=policy.share_percent,
            minimum=policy.minimum,
            drawn_by=actor,
            drawn_at=timezone.now(),
        )
        ModerationItem.objects.bulk_create(
            ModerationItem(
                sample=sample,
                submission_id=candidate.submission_id,
                in_sample=candidate.submission_id in chosen,
            )
            for candidate in population
        )
        audit_record(
            actor=actor,
            action="moderation_sample.draw",
            entity=sample,
            new_values={
                "course_run": course_run.pk,
                "assessor": assessor.pk,
                "moderator": moderator.pk,
                "share_percent": policy.share_percent,
                "minimum": policy.minimum,
                "population": len(population),
                "in_sample": len(chosen),
            },
        )
        email_enqueue(
            recipient=moderator.email,
            template="moderation_sample_given",
            context={
                "full_name": moderator.full_name,
                "assessor": str(assessor),
                "course_run": str(course_run),
                "count": len(chosen),
                "population": len(population),
                "url": institution_url(tenant_connection.tenant, sample.get_absolute_url()),
            },
        )
    return sample


# --- Moderating -------------------------------------------------------------------------------


def _moderator_check(actor: User | None, sample: ModerationSample, action: str) -> None:
    permission_check(
        actor=actor,
        action=action,
        permission=MODERATE,
        allowed=actor is None or sample.moderator_id == actor.pk,
    )


def _sample_lock(sample: ModerationSample) -> ModerationSample:
    locked: ModerationSample = (
        ModerationSample.objects.select_for_update(of=("self",))
        .select_related("course_run__course__programme", "moderator")
        .get(pk=sample.pk)
    )
    if locked.status != SampleStatus.OPEN:
        raise ValidationError("This sample is completed: its verdicts can no longer change.")
    if (
        registration_valid(
            locked.moderator, PractitionerRole.MODERATOR, locked.course_run.course.programme_id
        )
        is None
    ):
        raise ValidationError(
            "Your moderator registration covering "
            f"{locked.course_run.course.programme} is no longer valid (expired, withdrawn or "
            "out of scope): renew it before moderating."
        )
    return locked


def sample_verdict_record(
    *,
    actor: User | None,
    item: ModerationItem,
    verdict: str,
    moderated_decision: str = "",
    reasons: str = "",
) -> ModerationItem:
    """The moderator's verdict on one sampled decision: agreed, or changed to the other
    decision with reasons. It may be recorded again until the sample is completed."""
    _moderator_check(actor, item.sample, "moderation_item.verdict")
    reasons = reasons.strip()
    with transaction.atomic(durable=True):
        _sample_lock(item.sample)
        item = (
            ModerationItem.objects.select_for_update(of=("self",))
            .select_related("submission")
            .get(pk=item.pk)
        )
        if not item.in_sample:
            raise ValidationError("This decision is covered but not in the sample.")
        original = item.submission.decision
        if verdict == Verdict.AGREED:
            moderated_decision, reasons = "", ""
        elif verdict == Verdict.CHANGED:
            errors: dict[str, list[str]] = {}
            if moderated_decision not in Decision.values or moderated_decision == original:
                errors["verdict"] = [
                    "A change needs the other decision than the assessor's: "
                    f"the assessor found {Decision(original).label.lower()}."
                ]
            if not reasons:
                errors["reasons"] = ["Give your reasons for changing the assessor's decision."]
            if errors:
                raise ValidationError(errors)
        else:
            raise ValidationError({"verdict": ["Agree with the decision, or change it."]})
        old_values = {"verdict": item.verdict, "moderated_decision": item.moderated_decision}
        item.verdict = verdict
        item.moderated_decision = moderated_decision
        item.reasons = reasons
        item.moderated_at = timezone.now()
        item.save(update_fields=["verdict", "moderated_decision", "reasons", "moderated_at"])
        audit_record(
            actor=actor,
            action="moderation_item.verdict",
            entity=item,
            old_values=old_values,
            new_values={
                "verdict": verdict,
                "moderated_decision": moderated_decision,
                "reasons": kept_out(reasons),
            },
        )
    return item


def _latest_numbers(portfolio_ids: list[int]) -> dict[int, int]:
    return dict(
        PortfolioSubmission.objects.filter(portfolio_id__in=portfolio_ids)
        .values("portfolio_id")
        .annotate(latest=Max("number"))
        .values_list("portfolio_id", "latest")
    )


def sample_complete(*, actor: User | None, sample: ModerationSample) -> ModerationSample:
    """Complete the sample once every sampled decision has a verdict: each covered decision
    that is still its portfolio's latest (and the portfolio still holds a decision) gets the
    moderator's change applied and becomes final; a decision superseded by a resubmission is
    only recorded. The learners whose result changed are told by e-mail."""
    _moderator_check(actor, sample, "moderation_sample.complete")
    with transaction.atomic(durable=True):
        sample = _sample_lock(sample)
        items = list(
            ModerationItem.objects.filter(sample=sample).select_related("submission").order_by("pk")
        )
        pending = sum(1 for item in items if item.in_sample and item.verdict == Verdict.PENDING)
        if pending:
            raise ValidationError(
                f"{pending} sampled decision{'s are' if pending != 1 else ' is'} not moderated "
                "yet: agree with or change each one before completing."
            )
        portfolio_ids = sorted({item.submission.portfolio_id for item in items})
        portfolios = {
            portfolio.pk: portfolio
            for portfolio in Portfolio.objects.select_for_update(of=("self",))
            .select_related("outcome", "course_enrollment__enrollment__user")
            .filter(pk__in=portfolio_ids)
            .order_by("pk")
        }
        latest = _latest_numbers(portfolio_ids)
        now = timezone.now()
        applied = changed = superseded = 0
        told: list[Portfolio] = []
        for item in items:
            portfolio = portfolios[item.submission.portfolio_id]
            if latest[portfolio.pk] != item.submission.number or portfolio.status not in (
                PortfolioStatus.COMPETENT,
                PortfolioStatus.NOT_YET_COMPETENT,
            ):
                superseded += 1
                continue
            old_status = portfolio.status
            if item.verdict == Verdict.CHANGED and item.moderated_decision != old_status:
                if item.moderated_decision == Decision.COMPETENT:
                    portfolio.moderate_to_competent()
                else:
                    portfolio.moderate_to_not_yet_competent()
                changed += 1
                told.append(portfolio)
            portfolio.final_at = now
            portfolio.save()
            applied += 1
            audit_record(
                actor=actor,
                action="portfolio.moderated",
                entity=portfolio,
                old_values={"status": old_status, "final_at": None},
                new_values={
                    "status": portfolio.status,
                    "final_at": now.isoformat(),
                    "moderation_sample": sample.pk,
                },
            )
        sample.complete()
        sample.completed_at = now
        sample.save()
        audit_record(
            actor=actor,
            action="moderation_sample.complete",
            entity=sample,
            old_values={"status": SampleStatus.OPEN},
            new_values={
                "status": sample.status,
                "final": applied,
                "changed": changed,
                "superseded": superseded,
            },
        )
        for portfolio in told:
            user = portfolio.course_enrollment.enrollment.user
            if not user.is_in_service:
                continue
            email_enqueue(
                recipient=user.email,
                template="moderation_decision_changed",
                context={
                    "full_name": user.full_name,
                    "outcome": f"{portfolio.outcome.code} {portfolio.outcome.title}",
                    "decision": PortfolioStatus(portfolio.status).label,
                    "url": institution_url(
                        tenant_connection.tenant,
                        reverse("workplace:portfolio", args=[portfolio.pk]),
                    ),
                },
            )
    return sample
