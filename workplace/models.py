"""Learning at the workplace (seeds 001, 002): the workplace mentor of a placement, the
learner's logbook (weekly, confirmed by the mentor), portfolios of evidence per outcome
(academics.Outcome), assessed by a registered assessor and sampled by a registered moderator
before their results are final.

Written only by workplace.services; pages read through workplace.selectors."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from enrolments.evidence import StoredEvidence

# Migration 0001 names workplace.models.evidence_path as the evidence files' upload path.
from enrolments.evidence import evidence_path as evidence_path

# --- Assessors and moderators -----------------------------------------------------------------


class PractitionerRole(models.TextChoices):
    ASSESSOR = "assessor", "Assessor"
    MODERATOR = "moderator", "Moderator"


class PractitionerRegistration(models.Model):
    """A person's registration as an assessor or a moderator with a quality council or a SETA
    (its ETQA): the number, the qualifications (programmes) it covers and when it expires. Only
    an active, unexpired registration whose scope holds the outcome's programme lets a person
    assess (or moderate) it. Warned about once, a month before it expires."""

    PERSONAL_FIELDS = frozenset({"registration_number"})

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="practitioner_registrations",
    )
    role = models.CharField(max_length=20, choices=PractitionerRole.choices)
    registration_number = models.CharField(max_length=50)
    registered_with = models.CharField(
        max_length=200,
        blank=True,
        help_text="The quality council or SETA (its ETQA) that registered them.",
    )
    registered_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField()
    scope = models.ManyToManyField(
        "academics.Programme",
        related_name="+",
        help_text="The qualifications they are registered to assess or moderate.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Untick when the registration is withdrawn."
    )
    expiry_warned_for = models.DateField(
        null=True,
        blank=True,
        help_text="The expiry date last warned about (a new date is warned about again).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__full_name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(is_active=True),
                name="practitioner_one_active_registration_per_role",
            ),
            models.UniqueConstraint(
                fields=["role", "registration_number"],
                name="practitioner_registration_number_unique",
            ),
        ]
        indexes = [models.Index(fields=["role", "is_active", "expires_on"])]
        permissions = [
            (
                "manage_practitioners",
                "Register assessors and moderators: their registration numbers, the "
                "qualifications they cover and when their registrations expire.",
            ),
            (
                "assess_portfolios",
                "Assess learners' portfolios of evidence in the qualifications their assessor "
                "registration covers.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.registration_number}"

    def get_absolute_url(self) -> str:
        return reverse("workplace:practitioner_edit", args=[self.pk])


# --- Mentors ----------------------------------------------------------------------------------


class Mentorship(models.Model):
    """An organisation member who mentors a learner on a placement at their organisation: they
    confirm or return the learner's logbook weeks and write observation reports. One current
    mentor per placement; a change ends the earlier mentorship and keeps it."""

    placement = models.ForeignKey(
        "placements.Placement", on_delete=models.PROTECT, related_name="mentorships"
    )
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mentorships"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["placement"],
                condition=models.Q(ended_at__isnull=True),
                name="mentorship_one_current_per_placement",
            )
        ]
        indexes = [models.Index(fields=["mentor", "ended_at"], name="mentorship_mentor")]

    def __str__(self) -> str:
        return f"{self.mentor} mentors placement {self.placement_id}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


# --- Logbook ----------------------------------------------------------------------------------


class LogbookWeekStatus(models.TextChoices):
    OPEN = "open", "Being written"
    SUBMITTED = "submitted", "Waiting for the mentor"
    CONFIRMED = "confirmed", "Confirmed"
    RETURNED = "returned", "Returned"


class LogbookWeek(ConcurrentTransitionMixin, models.Model):
    """One week (Monday to Sunday) of a learner's logbook on a placement. The learner writes
    its entries and hands the week in; the mentor confirms it or returns it with a comment, and
    a returned week is corrected and handed in again. Only confirmed weeks' hours count."""

    placement = models.ForeignKey(
        "placements.Placement", on_delete=models.PROTECT, related_name="logbook_weeks"
    )
    week_starts_on = models.DateField(help_text="The Monday the week starts on.")
    status = FSMField(
        default=LogbookWeekStatus.OPEN, choices=LogbookWeekStatus.choices, protected=True
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-week_starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["placement", "week_starts_on"], name="logbook_week_unique_per_placement"
            ),
            models.CheckConstraint(
                condition=models.Q(week_starts_on__week_day=2), name="logbook_week_starts_monday"
            ),
        ]
        indexes = [models.Index(fields=["placement", "status"], name="logbook_week_status")]

    def __str__(self) -> str:
        return f"Week of {self.week_starts_on:%d %b %Y}"

    def get_absolute_url(self) -> str:
        return reverse(
            "workplace:logbook_week", args=[self.placement_id, self.week_starts_on.isoformat()]
        )

    @property
    def is_editable(self) -> bool:
        """The learner may add, change and remove entries."""
        return self.status in (LogbookWeekStatus.OPEN, LogbookWeekStatus.RETURNED)

    @transition(
        field=status,
        source=[LogbookWeekStatus.OPEN, LogbookWeekStatus.RETURNED],
        target=LogbookWeekStatus.SUBMITTED,
    )
    def submit(self) -> None:
        """The learner hands the week to their mentor (it needs an entry)."""

    @transition(
        field=status, source=LogbookWeekStatus.SUBMITTED, target=LogbookWeekStatus.CONFIRMED
    )
    def confirm(self) -> None:
        """The mentor confirms the week's entries: their hours count."""

    @transition(field=status, source=LogbookWeekStatus.SUBMITTED, target=LogbookWeekStatus.RETURNED)
    def give_back(self) -> None:
        """The mentor returns the week with a comment saying what to correct."""


class LogbookReviewDecision(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    RETURNED = "returned", "Returned"


class LogbookReview(models.Model):
    """The mentor's decision on a handed-in week, with their comment; every decision is kept."""

    PERSONAL_FIELDS = frozenset({"comment"})

    week = models.ForeignKey(LogbookWeek, on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(max_length=20, choices=LogbookReviewDecision.choices)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["-reviewed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(decision="returned") | ~models.Q(comment=""),
                name="logbook_return_has_comment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} week {self.week_id}"


class LogbookEntry(models.Model):
    """A day's work on the placement: the hours, the tasks done and the outcomes practised."""

    PERSONAL_FIELDS = frozenset({"tasks"})

    week = models.ForeignKey(LogbookWeek, on_delete=models.CASCADE, related_name="entries")
    entry_date = models.DateField()
    hours = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(0.25), MaxValueValidator(24)],
        help_text="Hours worked that day, in quarter hours (e.g. 7.5).",
    )
    tasks = models.TextField(help_text="What you did.")
    outcomes = models.ManyToManyField(
        "academics.Outcome",
        blank=True,
        related_name="logbook_entries",
        help_text="The outcomes the work practised.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entry_date", "pk"]
        verbose_name_plural = "logbook entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=0, hours__lte=24), name="logbook_entry_hours_in_day"
            )
        ]
        indexes = [models.Index(fields=["week", "entry_date"])]

    def __str__(self) -> str:
        return f"{self.entry_date:%d %b %Y}: {self.hours} h"


class LogbookEvidence(StoredEvidence):
    """A photo or a document that shows a logbook entry's work."""

    entry = models.ForeignKey(LogbookEntry, on_delete=models.CASCADE, related_name="evidence")

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name_plural = "logbook evidence"


class ObservationReport(models.Model):
    """What the mentor saw the learner do at the workplace, for an outcome: evidence the learner
    may add to that outcome's portfolio."""

    PERSONAL_FIELDS = frozenset({"report"})

    placement = models.ForeignKey(
        "placements.Placement", on_delete=models.PROTECT, related_name="observation_reports"
    )
    outcome = models.ForeignKey(
        "academics.Outcome", on_delete=models.PROTECT, related_name="observation_reports"
    )
    observed_on = models.DateField()
    report = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_on", "-pk"]

    def __str__(self) -> str:
        return f"Observation of {self.observed_on:%d %b %Y}"


# --- Portfolios of evidence -------------------------------------------------------------------


class Decision(models.TextChoices):
    COMPETENT = "competent", "Competent"
    NOT_YET_COMPETENT = "not_yet_competent", "Not yet competent"


class PortfolioStatus(models.TextChoices):
    DRAFT = "draft", "Being assembled"
    SUBMITTED = "submitted", "Waiting for an assessor"
    COMPETENT = "competent", "Competent"
    NOT_YET_COMPETENT = "not_yet_competent", "Not yet competent"


class Portfolio(ConcurrentTransitionMixin, models.Model):
    """A learner's portfolio of evidence for one outcome of a course they take in a course run.
    Its status is the learner's result for the outcome (the assessor's decision, or the
    moderator's where they changed it); `final_at` is set once a moderation sample that covers
    its latest assessment is completed: until then the result is not final."""

    course_enrollment = models.ForeignKey(
        "delivery.CourseEnrollment", on_delete=models.PROTECT, related_name="portfolios"
    )
    outcome = models.ForeignKey(
        "academics.Outcome", on_delete=models.PROTECT, related_name="portfolios"
    )
    status = FSMField(
        default=PortfolioStatus.DRAFT, choices=PortfolioStatus.choices, protected=True
    )
    final_at = models.DateTimeField(
        null=True, blank=True, help_text="When moderation made the result final."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course_enrollment", "outcome__position", "outcome__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["course_enrollment", "outcome"], name="portfolio_unique_per_outcome"
            )
        ]
        indexes = [models.Index(fields=["status"], name="portfolio_status")]

    def __str__(self) -> str:
        return f"Portfolio for {self.outcome}"

    def get_absolute_url(self) -> str:
        return reverse("workplace:portfolio", args=[self.pk])

    @property
    def is_final(self) -> bool:
        return self.final_at is not None

    @transition(field=status, source=PortfolioStatus.DRAFT, target=PortfolioStatus.SUBMITTED)
    def submit(self) -> None:
        """The learner hands the outcome's evidence in for assessment (a new submission)."""

    @transition(field=status, source=PortfolioStatus.SUBMITTED, target=PortfolioStatus.COMPETENT)
    def assess_competent(self) -> None:
        """A registered assessor found the learner competent."""

    @transition(
        field=status, source=PortfolioStatus.SUBMITTED, target=PortfolioStatus.NOT_YET_COMPETENT
    )
    def assess_not_yet_competent(self) -> None:
        """A registered assessor found the learner not yet competent, with feedback."""

    @transition(
        field=status, source=PortfolioStatus.NOT_YET_COMPETENT, target=PortfolioStatus.DRAFT
    )
    def reopen(self) -> None:
        """The learner works on the evidence again, to resubmit; the earlier submissions and
        their decisions stay."""

    @transition(
        field=status,
        source=[PortfolioStatus.COMPETENT, PortfolioStatus.NOT_YET_COMPETENT],
        target=PortfolioStatus.COMPETENT,
    )
    def moderate_to_competent(self) -> None:
        """The moderator changed the assessor's decision to competent."""

    @transition(
        field=status,
        source=[PortfolioStatus.COMPETENT, PortfolioStatus.NOT_YET_COMPETENT],
        target=PortfolioStatus.NOT_YET_COMPETENT,
    )
    def moderate_to_not_yet_competent(self) -> None:
        """The moderator changed the assessor's decision to not yet competent."""


class PortfolioSubmission(models.Model):
    """One hand-in of a portfolio and the assessor's decision on it. A resubmission after "not
    yet competent" is a new row: the history of attempts and decisions stays."""

    PERSONAL_FIELDS = frozenset({"feedback"})

    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="submissions")
    number = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True)
    feedback = models.TextField(blank=True)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="portfolio_assessments",
    )
    assessor_registration = models.ForeignKey(
        PractitionerRegistration,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
        help_text="The registration the assessor assessed under.",
    )
    assessed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["portfolio", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "number"], name="portfolio_submission_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(decision="")
                | models.Q(assessor__isnull=False, assessed_at__isnull=False),
                name="portfolio_decision_has_assessor",
            ),
            models.CheckConstraint(
                condition=~models.Q(decision="not_yet_competent") | ~models.Q(feedback=""),
                name="portfolio_not_yet_competent_has_feedback",
            ),
        ]
        indexes = [
            models.Index(fields=["assessor", "assessed_at"], name="portfolio_submission_assessor")
        ]

    def __str__(self) -> str:
        return f"Submission {self.number} of portfolio {self.portfolio_id}"


class EvidenceKind(models.TextChoices):
    LOGBOOK_ENTRY = "logbook_entry", "Logbook entry"
    DOCUMENT = "document", "Document"
    OBSERVATION = "observation", "Observation report"


class PortfolioEvidence(StoredEvidence):
    """One piece of a portfolio's evidence: a logbook entry, an observation report or an
    uploaded document. `submission` is the hand-in it first went with; from then on it stays
    (an assessor has seen it), and a resubmission adds to it."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=20, choices=EvidenceKind.choices)
    title = models.CharField(max_length=200)
    logbook_entry = models.ForeignKey(
        LogbookEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    observation = models.ForeignKey(
        ObservationReport, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submission = models.ForeignKey(
        PortfolioSubmission,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    # A document's file fields (StoredEvidence) are empty for the other kinds.
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name_plural = "portfolio evidence"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="logbook_entry",
                        logbook_entry__isnull=False,
                        observation__isnull=True,
                        sha256="",
                    )
                    | models.Q(
                        kind="observation",
                        observation__isnull=False,
                        logbook_entry__isnull=True,
                        sha256="",
                    )
                    | models.Q(
                        kind="document",
                        logbook_entry__isnull=True,
                        observation__isnull=True,
                    )
                    & ~models.Q(sha256="")
                ),
                name="portfolio_evidence_kind_matches",
            ),
            models.UniqueConstraint(
                fields=["portfolio", "logbook_entry"],
                condition=models.Q(logbook_entry__isnull=False),
                name="portfolio_evidence_entry_once",
            ),
            models.UniqueConstraint(
                fields=["portfolio", "observation"],
                condition=models.Q(observation__isnull=False),
                name="portfolio_evidence_observation_once",
            ),
        ]

    def __str__(self) -> str:
        return self.title


# --- Moderation -------------------------------------------------------------------------------


class ModerationPolicy(models.Model):
    """How big a moderation sample is: a share of an assessor's decisions in a course run, at
    least a minimum number (all of them when there are fewer). Every "not yet competent" is
    always in the sample. One row per institution (pk 1)."""

    share_percent = models.PositiveSmallIntegerField(
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="The share of an assessor's decisions a moderator checks, in per cent.",
    )
    minimum = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="The least number of decisions in a sample (all of them when there are fewer).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "moderation policies"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="moderation_policy_single")
        ]

    def __str__(self) -> str:
        return f"{self.share_percent}%, at least {self.minimum}"


class SampleStatus(models.TextChoices):
    OPEN = "open", "Being moderated"
    COMPLETED = "completed", "Completed"


class ModerationSample(ConcurrentTransitionMixin, models.Model):
    """The decisions of one assessor in one course run given to a registered moderator: every
    decision not yet covered by an earlier sample is an item (the population), and some of
    them (`in_sample`) are the moderator's to check. Completing it makes every covered result
    final (Portfolio.final_at), with the moderator's changes applied."""

    course_run = models.ForeignKey(
        "delivery.CourseRun", on_delete=models.PROTECT, related_name="moderation_samples"
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_samples"
    )
    moderator_registration = models.ForeignKey(
        PractitionerRegistration, on_delete=models.PROTECT, related_name="samples"
    )
    share_percent = models.PositiveSmallIntegerField()
    minimum = models.PositiveSmallIntegerField()
    status = FSMField(default=SampleStatus.OPEN, choices=SampleStatus.choices, protected=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-drawn_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(moderator=models.F("assessor")),
                name="moderation_sample_second_person",
            )
        ]
        indexes = [models.Index(fields=["moderator", "status"], name="moderation_sample_moderator")]

    def __str__(self) -> str:
        return f"Moderation sample {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("workplace:sample", args=[self.pk])

    @transition(field=status, source=SampleStatus.OPEN, target=SampleStatus.COMPLETED)
    def complete(self) -> None:
        """Every sampled decision has a verdict: the covered results become final."""


class Verdict(models.TextChoices):
    PENDING = "pending", "Not moderated yet"
    AGREED = "agreed", "Agreed"
    CHANGED = "changed", "Changed"


class ModerationItem(models.Model):
    """One assessment decision a sample covers; a sampled one gets the moderator's verdict:
    agreement, or a changed decision with reasons. A decision is covered by one sample only."""

    PERSONAL_FIELDS = frozenset({"reasons"})

    sample = models.ForeignKey(ModerationSample, on_delete=models.CASCADE, related_name="items")
    submission = models.OneToOneField(
        PortfolioSubmission, on_delete=models.PROTECT, related_name="moderation_item"
    )
    in_sample = models.BooleanField(default=False)
    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    moderated_decision = models.CharField(max_length=20, choices=Decision.choices, blank=True)
    reasons = models.TextField(blank=True)
    moderated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sample", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(verdict="changed")
                | (~models.Q(moderated_decision="") & ~models.Q(reasons="")),
                name="moderation_change_has_decision_and_reasons",
            ),
            models.CheckConstraint(
                condition=models.Q(in_sample=True) | models.Q(verdict="pending"),
                name="moderation_verdict_only_in_sample",
            ),
        ]
        indexes = [models.Index(fields=["sample", "in_sample", "verdict"])]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} (submission {self.submission_id})"


# --- The portfolio as one PDF -----------------------------------------------------------------


def export_path(instance: "PortfolioExport", filename: str) -> str:
    return f"workplace/portfolios/{uuid.uuid4().hex}.pdf"


class PortfolioExport(models.Model):
    """A learner's portfolio for a course run as one sealed PDF (an index, then each outcome's
    decisions and evidence), as handed to the quality council or an external moderator. Each
    download is kept with its hash, so the copy handed out can be checked later."""

    course_enrollment = models.ForeignKey(
        "delivery.CourseEnrollment", on_delete=models.PROTECT, related_name="portfolio_exports"
    )
    pdf = models.FileField(upload_to=export_path, max_length=300)
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Portfolio export {self.pk}"
