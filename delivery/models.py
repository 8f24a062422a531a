"""How a programme is delivered to a cohort (seeds 002, 004, 001): trainers, course runs (a
course delivered to a cohort), their sessions, attendance registers, assessments and
moderation, course enrolments (a learner in a course run, with the grade) and certificates.
Written only by delivery.services."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django_fsm import FSMField, transition

from academics.models import CURRENCY_CODE
from integrations.models import SyncStatus


class Trainer(models.Model):
    """Seed 002 `trainers`: a person who teaches, with their credentials and accreditation,
    linked to the account (with the trainer role) they work in."""

    PERSONAL_FIELDS = frozenset(
        {
            "name",
            "email",
            "phone_number",
            "credentials",
            "accreditation_number",
            "accreditation_expires_on",
        }
    )

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trainer"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone_number = models.CharField(max_length=30, blank=True)
    credentials = models.TextField(
        blank=True, help_text="Qualifications and registrations, e.g. ETDP SETA assessor."
    )
    accreditation_number = models.CharField(max_length=50, blank=True)
    accreditation_expires_on = models.DateField(null=True, blank=True)
    active_status = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            (
                "manage_delivery",
                "Set up delivery: trainers, course runs and their schedules, moderators, and "
                "the attendance threshold; see every register and gradebook.",
            ),
            (
                "teach",
                "Take registers and record results in the course runs they teach.",
            ),
            (
                "moderate_results",
                "Moderate the results of the course runs they are given as moderator.",
            ),
            (
                "issue_certificates",
                "Record programme outcomes, issue, revoke and reissue certificates and "
                "statements of results, and edit their templates.",
            ),
            (
                "manage_fees",
                "Set programme fees and each learner's fee and subsidy in their course runs.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DeliveryMode(models.TextChoices):
    CLASSROOM = "classroom", "Classroom"
    ONLINE = "online", "Online"
    BLENDED = "blended", "Blended"
    WORKPLACE = "workplace", "Workplace"


class CourseRunStatus(models.TextChoices):
    """The run's registration with the training gateway (seed 002); `draft` without one."""

    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending"
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# The states of a run that is not cancelled: its gateway standing may move between them.
_AT_THE_GATEWAY = [
    CourseRunStatus.DRAFT,
    CourseRunStatus.PENDING,
    CourseRunStatus.SYNCED,
    CourseRunStatus.FAILED,
]


class CourseRun(models.Model):
    """Seed 002 `course_runs`: a course of the cohort's programme delivered to the cohort.
    Whether it is scheduled, running or finished follows from its dates and sessions."""

    cohort = models.ForeignKey("cohorts.Cohort", on_delete=models.PROTECT, related_name="runs")
    course = models.ForeignKey("academics.Course", on_delete=models.PROTECT, related_name="runs")
    academic_session = models.ForeignKey(
        "academics.AcademicSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs",
    )
    external_id = models.CharField(
        max_length=100, blank=True, help_text="The training gateway's reference for the run."
    )
    course_ref = models.CharField(max_length=50, help_text="The course's code when it ran.")
    title = models.CharField(max_length=255)
    start_date = models.DateField()
    end_date = models.DateField()
    delivery_mode = models.CharField(
        max_length=20, choices=DeliveryMode.choices, default=DeliveryMode.CLASSROOM
    )
    venue = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    status = FSMField(default=CourseRunStatus.DRAFT, choices=CourseRunStatus.choices)
    sync_version = models.PositiveIntegerField(
        default=0, help_text="The version of the run last queued for the gateway."
    )
    sync_error = models.TextField(blank=True, help_text="Why the gateway has not got it, if so.")
    trainer = models.ForeignKey(
        Trainer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs",
        help_text="Who teaches the run; a session may name another trainer.",
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs_moderated",
    )
    moderated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the moderator signed off the run's results."
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancellation_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_date", "course_ref"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="course_run_ends_after_it_starts",
            ),
            models.UniqueConstraint(
                fields=["cohort", "course"],
                condition=~models.Q(status="cancelled"),
                name="course_run_one_per_cohort_and_course",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_ref} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("delivery:run", args=[self.pk])

    @property
    def is_moderated(self) -> bool:
        return self.moderated_at is not None

    @transition(field=status, source=_AT_THE_GATEWAY, target=CourseRunStatus.CANCELLED)
    def cancel(self) -> None:
        """Stop the run; its sessions are cancelled by the service."""

    # Its standing at the gateway follows its latest job (delivery.receivers); a cancelled
    # run stays cancelled whatever becomes of its cancellation's job.
    @transition(field=status, source=_AT_THE_GATEWAY, target=CourseRunStatus.PENDING)
    def sync_queued(self) -> None:
        """A version of the run is on its way to the gateway."""

    @transition(field=status, source=_AT_THE_GATEWAY, target=CourseRunStatus.SYNCED)
    def sync_accepted(self) -> None:
        """The gateway accepted the run's latest version."""

    @transition(field=status, source=_AT_THE_GATEWAY, target=CourseRunStatus.FAILED)
    def sync_failed(self) -> None:
        """The gateway refused the run's latest version, or it could not be sent."""

    @transition(field=status, source=_AT_THE_GATEWAY, target=CourseRunStatus.DRAFT)
    def sync_unsent(self) -> None:
        """The only version of the run on its way was taken out of the queue: the gateway
        never had it."""


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class TimeRange(models.Func):
    """tsrange(date + start, date + end): a session's time, for the no-double-booking
    constraint."""

    function = "TSRANGE"
    output_field = DateTimeRangeField()


def _at(time_field: str) -> models.ExpressionWrapper:
    return models.ExpressionWrapper(
        models.F("session_date") + models.F(time_field), output_field=models.DateTimeField()
    )


class Session(models.Model):
    """Seed 002 `sessions`: one meeting of a course run. A trainer is never booked twice at the
    same time (the database says so; delivery.services names the clash first)."""

    PERSONAL_FIELDS = frozenset({"cancellation_reason"})

    course_run = models.ForeignKey(CourseRun, on_delete=models.PROTECT, related_name="sessions")
    session_date = models.DateField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    venue = models.CharField(max_length=200, blank=True)
    trainer = models.ForeignKey(
        Trainer, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    cancellation_reason = models.TextField(blank=True)
    register_signed_off_at = models.DateTimeField(null=True, blank=True)
    register_signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session_date", "start_time"]
        indexes = [models.Index(fields=["session_date", "start_time"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="session_ends_after_it_starts",
            ),
            ExclusionConstraint(
                name="session_trainer_not_booked_twice",
                expressions=[
                    ("trainer", RangeOperators.EQUAL),
                    (
                        TimeRange(_at("start_time"), _at("end_time")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=models.Q(status="scheduled", trainer__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_run} on {self.session_date:%d %b %Y} at {self.start_time:%H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("delivery:register", args=[self.pk])

    @property
    def is_signed_off(self) -> bool:
        return self.register_signed_off_at is not None


class CourseEnrollmentStatus(models.TextChoices):
    ENROLLED = "enrolled", "Enrolled"
    COMPLETED = "completed", "Completed"
    DROPPED = "dropped", "Dropped"


class CourseEnrollment(models.Model):
    """Seed 004 `course_enrollments` (an enrolment in a course in an academic session, with the
    grade) and seed 002's `enrolments` (a trainee in a course run): a learner's place in one
    course run. The grade comes from the learner's moderated results in the run."""

    enrollment = models.ForeignKey(
        "enrolments.CohortEnrollment", on_delete=models.PROTECT, related_name="course_enrollments"
    )
    course = models.ForeignKey(
        "academics.Course", on_delete=models.PROTECT, related_name="enrollments"
    )
    academic_session = models.ForeignKey(
        "academics.AcademicSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="course_enrollments",
    )
    course_run = models.ForeignKey(CourseRun, on_delete=models.PROTECT, related_name="enrollments")
    enrollment_date = models.DateField()
    status = models.CharField(
        max_length=20,
        choices=CourseEnrollmentStatus.choices,
        default=CourseEnrollmentStatus.ENROLLED,
    )
    score = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The final percentage, from the moderated results.",
    )
    grade = models.CharField(max_length=5, blank=True)
    grade_points = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    fee_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="What the learner's place costs; starts as the programme's fee.",
    )
    fee_currency = models.CharField(max_length=3, default="ZAR", validators=[CURRENCY_CODE])
    subsidy_info = models.TextField(
        blank=True, help_text="Who pays what; starts as the programme's subsidy information."
    )
    sync_reference = models.CharField(max_length=100, blank=True)
    sync_status = models.CharField(
        max_length=20, choices=SyncStatus.choices, blank=True, default=SyncStatus.NOT_SENT
    )
    sync_attempts = models.PositiveIntegerField(default=0)
    sync_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course_run", "enrollment__learner__last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "course", "academic_session"],
                nulls_distinct=False,
                name="course_enrollment_unique_per_session",
            ),
            models.UniqueConstraint(
                fields=["enrollment", "course_run"], name="course_enrollment_unique_per_run"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment.learner} in {self.course_run}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    ABSENT = "absent", "Absent"
    LATE = "late", "Late"
    EXCUSED = "excused", "Excused"
    UNKNOWN = "unknown", "Unknown"


class AttendanceRecord(models.Model):
    """Seed 002 `attendance_records`: one learner at one session. After the register is
    signed off a change needs a reason and leaves the earlier value in AttendanceChange."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="attendance")
    enrolment = models.ForeignKey(
        CourseEnrollment, on_delete=models.PROTECT, related_name="attendance"
    )
    status = models.CharField(
        max_length=20, choices=AttendanceStatus.choices, default=AttendanceStatus.UNKNOWN
    )
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    sync_reference = models.CharField(max_length=100, blank=True)
    sync_status = models.CharField(
        max_length=20, choices=SyncStatus.choices, blank=True, default=SyncStatus.NOT_SENT
    )
    sync_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "enrolment"], name="attendance_unique_per_session"
            )
        ]
        indexes = [models.Index(fields=["enrolment", "status"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()} at session {self.session_id}"


class AttendanceChange(models.Model):
    """An attendance record as it was before a change made after sign-off, and why."""

    record = models.ForeignKey(AttendanceRecord, on_delete=models.PROTECT, related_name="changes")
    old_status = models.CharField(max_length=20, choices=AttendanceStatus.choices)
    old_reason = models.TextField(blank=True)
    new_status = models.CharField(max_length=20, choices=AttendanceStatus.choices)
    change_reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.old_status} to {self.new_status}"


class AssessmentResult(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    VOID = "void", "Void"


class Assessment(models.Model):
    """Seed 002 `assessments`: one result of a learner in a course run. A void needs a reason;
    a voided or corrected result stays visible in AssessmentChange ("versioned updates by
    status history"). Final once the run is moderated."""

    PERSONAL_FIELDS = frozenset({"void_reason"})

    enrolment = models.ForeignKey(
        CourseEnrollment, on_delete=models.PROTECT, related_name="assessments"
    )
    assessment_type = models.CharField(
        max_length=100, help_text="E.g. Formative 1, Summative, Practical."
    )
    score = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="A percentage."
    )
    result = models.CharField(max_length=10, choices=AssessmentResult.choices)
    assessed_at = models.DateTimeField()
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments_assessed"
    )
    void_reason = models.TextField(blank=True)
    sync_reference = models.CharField(max_length=100, blank=True)
    sync_status = models.CharField(
        max_length=20, choices=SyncStatus.choices, blank=True, default=SyncStatus.NOT_SENT
    )
    sync_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["enrolment", "assessment_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "assessment_type"],
                name="assessment_unique_per_type",
            ),
            models.CheckConstraint(
                condition=~models.Q(result="void") | ~models.Q(void_reason=""),
                name="assessment_void_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=100),
                name="assessment_score_is_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_type}: {self.get_result_display()}"


class AssessmentChange(models.Model):
    """A result as it was before a correction or a void, who changed it and why."""

    PERSONAL_FIELDS = frozenset({"reason"})

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="changes")
    old_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    old_result = models.CharField(max_length=10, choices=AssessmentResult.choices)
    new_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    new_result = models.CharField(max_length=10, choices=AssessmentResult.choices)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.old_result} to {self.new_result}"


class CertificateKind(models.TextChoices):
    CERTIFICATE = "certificate", "Certificate"
    STATEMENT_OF_RESULTS = "statement_of_results", "Statement of results"


class CertificateTemplate(models.Model):
    """The institution's wording of a certificate or a statement of results (one per kind)."""

    kind = models.CharField(max_length=30, choices=CertificateKind.choices, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Shown above the results. May use {learner}, {programme}, {institution}, "
        "{completion_date}."
    )
    signatory_name = models.CharField(max_length=200, blank=True)
    signatory_title = models.CharField(max_length=200, blank=True)
    footer = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.get_kind_display()


def certificate_path(instance: "Certificate", filename: str) -> str:
    return f"certificates/{instance.verification_code}.pdf"


class Certificate(models.Model):
    """Seed 001 `certificates`: a sealed PDF issued to a learner for a programme (or a
    statement of results), found again by its verification code. Revoked with a reason;
    reissuing revokes the earlier one and points back to it."""

    PERSONAL_FIELDS = frozenset({"revocation_reason"})

    enrollment = models.ForeignKey(
        "enrolments.CohortEnrollment", on_delete=models.PROTECT, related_name="certificates"
    )
    kind = models.CharField(max_length=30, choices=CertificateKind.choices)
    verification_code = models.CharField(max_length=32, unique=True)
    pdf = models.FileField(upload_to=certificate_path, max_length=300)
    sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_reason = models.TextField(blank=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    contents = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the certificate shows, as it was issued: the verify page shows this.",
    )

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "kind"],
                condition=models.Q(revoked_at__isnull=True),
                name="certificate_one_valid_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True) | ~models.Q(revocation_reason=""),
                name="certificate_revocation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.verification_code}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class CalendarFeedOwner(models.TextChoices):
    TRAINER = "trainer", "Trainer"
    LEARNER = "learner", "Learner"


class CalendarFeed(models.Model):
    """An iCalendar feed of a person's sessions, reached by an unguessable token (only its
    SHA-256 is kept). It does not expire; revoking or regenerating ends the old address."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    owner = models.CharField(max_length=10, choices=CalendarFeedOwner.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "owner"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendar_feed_one_live_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_owner_display()} calendar of user {self.user_id}"
