from django.conf import settings
from django.db import models


class VerificationAction(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class DocumentVerification(models.Model):
    """One reviewer's decision on one uploaded version of a student's document, append-only:
    the model refuses to change or delete a row and the database refuses UPDATE, DELETE and
    TRUNCATE (migration 0002). A version is decided once (a new upload is a new version), so
    two reviewers deciding the same version cannot both be recorded."""

    cohort_enrollment = models.ForeignKey(
        "enrolments.CohortEnrollment", on_delete=models.PROTECT, related_name="verifications"
    )
    admin = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The reviewer who decided: an admin, or a verifier granted the cohort.",
    )
    document = models.ForeignKey(
        "enrolments.StudentDocument", on_delete=models.PROTECT, related_name="verifications"
    )
    document_type = models.ForeignKey(
        "cohorts.DocumentType", on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=10, choices=VerificationAction.choices)
    reason = models.TextField(
        blank=True, help_text="Required for a rejection; the student sees it."
    )
    metadata = models.JSONField(
        default=dict,
        blank=True,
        help_text="The document's SHA-256, size and name as reviewed, the time spent, how it "
        "was decided (one by one or in bulk).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["document"], name="verification_one_per_version"),
            models.CheckConstraint(
                condition=models.Q(action__in=VerificationAction.values),
                name="verification_action_known",
            ),
            models.CheckConstraint(
                condition=models.Q(action=VerificationAction.APPROVED)
                | models.Q(action=VerificationAction.REJECTED, reason__regex=r"\S"),
                name="verification_rejection_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["cohort_enrollment", "-created_at"])]
        permissions = [
            (
                "review_documents",
                "Review students' documents and ID checks and accept or reject them, in the "
                "cohorts they work in.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: document {self.document_id} by {self.admin_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("A document verification cannot be changed once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A document verification cannot be deleted.")
