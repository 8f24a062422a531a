from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class EnrollmentState(models.TextChoices):
    WAITING = "waiting", "Waiting"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETE = "complete", "Complete"
    WITHDRAWN = "withdrawn", "Withdrawn"


class VerificationState(models.TextChoices):
    PENDING = "pending", "Pending"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class ProgrammeOutcome(models.TextChoices):
    """How the learner left the programme (recorded beside the onboarding `state`)."""

    COMPLETED = "completed", "Completed"
    NOT_YET_COMPETENT = "not_yet_competent", "Not yet competent"
    WITHDRAWN = "withdrawn", "Withdrawn"


class CohortEnrollment(ConcurrentTransitionMixin, models.Model):
    """A student's place in a cohort. `state` follows the student's progress; the
    `document_verification_state` follows the reviewers' decisions on their documents.
    Both change only through enrolments.services."""

    # Audit events record that these changed, never their values (audit.services). The
    # rejection reason is about a document, not the person.
    PERSONAL_FIELDS = frozenset({"agreement_signature", "withdrawal_reason"})

    cohort = models.ForeignKey(
        "cohorts.Cohort", on_delete=models.PROTECT, related_name="enrollments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments"
    )
    learner = models.ForeignKey(
        "learners.Learner",
        on_delete=models.PROTECT,
        related_name="enrollments",
        help_text="The person; what is about them (details, documents) is kept there.",
    )
    state = FSMField(
        default=EnrollmentState.WAITING, choices=EnrollmentState.choices, protected=True
    )
    document_verification_state = FSMField(
        default=VerificationState.PENDING, choices=VerificationState.choices, protected=True
    )
    rejection_reason = models.TextField(blank=True)
    agreement_signed_at = models.DateTimeField(null=True, blank=True)
    agreement_signature = models.CharField(max_length=200, blank=True)
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the enrolment became complete."
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    completion_date = models.DateField(
        null=True, blank=True, help_text="When the learner finished the programme (seed 004)."
    )
    programme_outcome = models.CharField(
        max_length=20,
        choices=ProgrammeOutcome.choices,
        blank=True,
        help_text="Recorded once every required course is completed, or the learner left.",
    )
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cohort", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "user"], name="enrollment_unique_per_cohort")
        ]
        indexes = [
            models.Index(fields=["cohort", "state"]),
            models.Index(fields=["cohort", "document_verification_state"]),
        ]
        permissions = [
            (
                "manage_enrolments",
                "Enrol students one by one or from a spreadsheet, resend their invitations and "
                "reminders, and withdraw them.",
            ),
            (
                "countersign_agreements",
                "Sign the learners' agreements for the institution, as its signatory, once the "
                "learner and the sponsor have signed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort}"

    def get_absolute_url(self) -> str:
        """The staff page of this enrolment (students use the portal's own pages)."""
        return reverse("verification:enrollment", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in (EnrollmentState.WAITING, EnrollmentState.IN_PROGRESS)

    @property
    def can_change(self) -> bool:
        """Whether anything may still be done on it (details, uploads, reviews, signing): the
        enrolment is open and its cohort is not closed (Cohort.is_closed)."""
        return self.is_open and not self.cohort.is_closed

    @transition(field=state, source=EnrollmentState.WAITING, target=EnrollmentState.IN_PROGRESS)
    def start(self) -> None:
        """The student's first action."""

    @transition(field=state, source=EnrollmentState.IN_PROGRESS, target=EnrollmentState.COMPLETE)
    def finish(self) -> None:
        """Every required document verified, the agreement and every supporting agreement signed
        (checked by enrolments.services.enrollment_refresh)."""
        self.completed_at = timezone.now()

    @transition(
        field=state,
        source=[EnrollmentState.WAITING, EnrollmentState.IN_PROGRESS],
        target=EnrollmentState.WITHDRAWN,
    )
    def withdraw(self) -> None:
        """An admin takes the student out of the cohort; they lose access to it."""

    @transition(
        field=document_verification_state,
        source=[VerificationState.PENDING, VerificationState.REJECTED, VerificationState.VERIFIED],
        target=VerificationState.VERIFIED,
    )
    def mark_verified(self) -> None:
        """Every required document is approved."""

    @transition(
        field=document_verification_state,
        source=[VerificationState.PENDING, VerificationState.VERIFIED, VerificationState.REJECTED],
        target=VerificationState.REJECTED,
    )
    def mark_rejected(self) -> None:
        """At least one required document is rejected."""

    @transition(
        field=document_verification_state,
        source=[VerificationState.REJECTED, VerificationState.VERIFIED, VerificationState.PENDING],
        target=VerificationState.PENDING,
    )
    def mark_pending(self) -> None:
        """Documents are waiting for review (e.g. a new version after a rejection)."""


class AgreementStatus(models.TextChoices):
    """Where an enrolment's latest agreement stands, as the cohort's students table, its
    filters and its export say it. Worked out by enrolments.selectors, never stored."""

    NOT_SENT = "not_sent", "Not sent"
    WAITING = "waiting", "Waiting for signatures"
    DECLINED = "declined", "Declined"
    SIGNED = "signed", "Signed"
    REVOKED = "revoked", "Revoked"


class DocumentsStatus(models.TextChoices):
    """Where an enrolment's required documents stand taken together (the student still has
    to upload one, a reviewer has to look at one, one was rejected, all approved): the
    students table's documents column and filter. Worked out by enrolments.selectors."""

    NOT_UPLOADED = "not_uploaded", "Not uploaded"
    WAITING_REVIEW = "waiting_review", "Waiting for review"
    REJECTED = "rejected", "Rejected"
    APPROVED = "approved", "Approved"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class ScanStatus(models.TextChoices):
    """The antivirus verdict on an upload. With no scanner configured (CLAMAV_ADDRESS unset)
    uploads stay `not_scanned` and are reviewable at once; with one, they start `scanning` and
    only a `clean` verdict makes them reviewable. An `infected` file is quarantined: its stored
    file is deleted and the document rejected. `error` means the scanner could not be reached
    or failed; the document waits, unreviewable, for a later scan."""

    NOT_SCANNED = "not_scanned", "Not scanned"
    SCANNING = "scanning", "Waiting for the virus scan"
    CLEAN = "clean", "No virus found"
    INFECTED = "infected", "Virus found, file removed"
    ERROR = "error", "Virus scan failed"


# Documents a reviewer may look at and decide on (see ScanStatus).
REVIEWABLE_SCAN_STATUSES = (ScanStatus.NOT_SCANNED, ScanStatus.CLEAN)


def student_document_path(instance: "StudentDocument", filename: str) -> str:
    """A random name: the original name is kept only as data (DESIGN: uploads)."""
    import uuid

    return f"documents/{instance.enrollment_id}/{uuid.uuid4().hex}"


class StudentDocument(models.Model):
    """One uploaded file of one of the learner's documents (seed 001 `candidate_documents`),
    uploaded for one of their enrolments. The learner has one current document per type, which
    their later enrolments use again once verified (enrolments.selectors.enrollment_steps). A
    new upload is a new row; earlier versions are kept, each with its own review trail."""

    # A file's own name often carries its owner's (audit.services).
    PERSONAL_FIELDS = frozenset({"original_name"})

    learner = models.ForeignKey(
        "learners.Learner", on_delete=models.PROTECT, related_name="documents"
    )
    enrollment = models.ForeignKey(
        CohortEnrollment,
        on_delete=models.PROTECT,
        related_name="documents",
        help_text="The enrolment it was uploaded for.",
    )
    document_type = models.ForeignKey(
        "cohorts.DocumentType", on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=student_document_path, max_length=300)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    # Set when the student's PDF held active content and only a copy without it was stored
    # (the institution's choice): the SHA-256 of the file as uploaded. `sha256` is the copy's.
    original_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING
    )
    rejection_reason = models.TextField(blank=True)
    is_current = models.BooleanField(default=True)
    expires_on = models.DateField(
        null=True, blank=True, help_text="Asked for when its document type expires."
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    scan_status = models.CharField(
        max_length=12, choices=ScanStatus.choices, default=ScanStatus.NOT_SCANNED
    )

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "document_type"],
                condition=models.Q(is_current=True),
                name="one_current_document_per_learner_and_type",
            )
        ]
        indexes = [models.Index(fields=["status", "uploaded_at"])]

    def __str__(self) -> str:
        return f"{self.document_type} for {self.enrollment}"

    @property
    def is_expired(self) -> bool:
        """Whether its expiry date has passed: it no longer counts, even verified."""
        return self.expires_on is not None and self.expires_on < timezone.localdate()

    @property
    def is_reviewable(self) -> bool:
        """Whether the antivirus hook lets a reviewer open and decide on this file."""
        return self.scan_status in REVIEWABLE_SCAN_STATUSES


class SupportingAgreement(models.Model):
    """One of the cohort's supporting agreements (a POPIA consent form, a code of conduct ...)
    for one student, signed by the student alone after the main agreement. Its signing
    submissions point at this row (their subject), so they never mix with the main agreement's:
    a declined one is followed by a new one, and `signed_at` is set once one is signed.
    Written only by enrolments.supporting."""

    # Audit events record that these changed, never their values (audit.services).
    PERSONAL_FIELDS = frozenset({"signature"})

    enrollment = models.ForeignKey(
        CohortEnrollment, on_delete=models.PROTECT, related_name="supporting_agreements"
    )
    template = models.ForeignKey(
        "signing.AgreementTemplate", on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signature = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enrollment", "template__title", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "template"], name="supporting_agreement_unique_per_template"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} for {self.enrollment}"


class CountersigningStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for its turn"
    RUNNING = "running", "Signing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AgreementCountersigning(models.Model):
    """One bulk countersigning by the institution's signatory: the learner agreements they
    chose on the cohort's countersign page, signed one by one by a task (each document in its
    own transaction, with its own signature, trail entry and seal) while the page shows the
    progress."""

    # The signatory's typed signature is theirs (audit.services).
    PERSONAL_FIELDS = frozenset({"signed_name"})

    cohort = models.ForeignKey(
        "cohorts.Cohort", on_delete=models.CASCADE, related_name="countersignings"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submission_ids = ArrayField(models.PositiveIntegerField(), default=list)
    signed_name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=20, choices=CountersigningStatus.choices, default=CountersigningStatus.QUEUED
    )
    signed_count = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(
        default=list, blank=True, help_text="The agreements not signed, each with the reason."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Countersigning of {len(self.submission_ids)} agreements in {self.cohort_id}"

    @property
    def is_running(self) -> bool:
        return self.status in (CountersigningStatus.QUEUED, CountersigningStatus.RUNNING)

    @property
    def processed(self) -> int:
        return self.signed_count + len(self.skipped)

    @property
    def percent(self) -> int:
        total = len(self.submission_ids)
        return 100 if not total else min(100, round(100 * self.processed / total))
