from django.conf import settings
from django.db import models
from django.utils import timezone


class Sponsor(models.Model):
    """A company that sponsors cohorts, and the person there who signs for it."""

    # The contact person's details; the company's own are not personal (audit.services).
    PERSONAL_FIELDS = frozenset({"contact_name", "contact_email", "contact_phone"})

    company_name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=30, blank=True)
    tax_number = models.CharField(max_length=40, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The contact's account, if they have one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company_name", "pk"]
        permissions = [
            (
                "manage_sponsors",
                "Add and edit sponsors, choose a cohort's sponsor, and invite or remove sponsor "
                "contacts.",
            ),
        ]

    def __str__(self) -> str:
        return self.company_name


class SponsorAgreement(models.Model):
    """Which sponsor an agreement sent for a cohort was for. A cohort may change sponsors;
    only the current sponsor's own agreement says whether the cohort's sponsor has signed."""

    cohort = models.ForeignKey(
        "cohorts.Cohort", on_delete=models.CASCADE, related_name="sponsor_agreements"
    )
    sponsor = models.ForeignKey(Sponsor, on_delete=models.PROTECT, related_name="agreements")
    submission = models.OneToOneField(
        "signing.Submission", on_delete=models.CASCADE, related_name="sponsor_agreement"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["cohort", "sponsor"])]

    def __str__(self) -> str:
        return f"{self.sponsor} for cohort {self.cohort_id}"


class SponsorLearnerLink(models.Model):
    """The e-mailed link on which a cohort's sponsor signs its learners' agreements, all on one
    page: one or all at once. Only the SHA-256 of its token is stored; a newer link for the
    cohort, a new sponsor or a new contact address ends it."""

    cohort = models.ForeignKey(
        "cohorts.Cohort", on_delete=models.CASCADE, related_name="sponsor_learner_links"
    )
    sponsor = models.ForeignKey(Sponsor, on_delete=models.CASCADE, related_name="learner_links")
    email = models.EmailField(help_text="The contact address the link was sent to.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    # The contact's address is a person's (audit.services).
    PERSONAL_FIELDS = frozenset({"email"})

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Learner agreements link for {self.sponsor} in cohort {self.cohort_id}"

    @property
    def is_usable(self) -> bool:
        """Not revoked, not expired, and still for the cohort's current sponsor and address."""
        cohort = self.cohort
        return (
            self.revoked_at is None
            and self.expires_at > timezone.now()
            and cohort.sponsor_id == self.sponsor_id
            and self.sponsor.contact_email.lower() == self.email.lower()
            and not cohort.is_closed
        )
