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
