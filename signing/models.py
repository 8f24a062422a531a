"""Agreements and their signing: templates (versioned), submissions (one frozen filling of a
template), the people who sign it, in order, and the trail of what happened. Knows nothing about
cohorts: a submission points at what it is for by a plain (type, id) pair and names a callback
(registered in signing.callbacks) to run when it is complete."""

import secrets

from django.apps import apps
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class SignerRole(models.TextChoices):
    STUDENT = "student", "Student"
    SPONSOR = "sponsor", "Sponsor"
    INSTITUTION_ADMIN = "institution_admin", "Institution admin"


# Who each signer role stands for, as "Waiting for the sponsor" says it.
SIGNER_PARTIES: dict[str, str] = {
    SignerRole.STUDENT.value: "the student",
    SignerRole.SPONSOR.value: "the sponsor",
    SignerRole.INSTITUTION_ADMIN.value: "the institution",
}


def signer_party(role: str | None) -> str:
    """The party a signer role stands for ("the sponsor"); a role this list does not know of
    reads as its own label."""
    if not role:
        return "the next signer"
    if role in SIGNER_PARTIES:
        return SIGNER_PARTIES[role]
    return f"the {dict(SignerRole.choices).get(role, role.replace('_', ' ')).lower()}"


# The merge fields a template may use, with the example value shown in previews. A field not
# listed here is refused when the template is saved, never left blank in a signed contract.
MERGE_FIELDS: dict[str, tuple[str, str]] = {
    "student.full_name": ("The student's full name", "Thandi Mokoena"),
    "student.email": ("The student's e-mail address", "thandi@example.org"),
    "student.id_number": ("The student's ID or passport number", "9001015009087"),
    "cohort.name": ("The cohort's name", "Data Analytics Learnership 2027"),
    "cohort.program_type": ("The programme type", "Learnership"),
    "cohort.start_date": ("The cohort's start date", "1 February 2027"),
    "cohort.end_date": ("The cohort's end date", "30 November 2027"),
    "sponsor.company_name": ("The sponsor's company name", "Ubuntu Mining (Pty) Ltd"),
    "sponsor.contact_name": ("The sponsor's contact person", "Sipho Dlamini"),
    "sponsor.tax_number": ("The sponsor's tax number", "9012345678"),
    "institution.name": ("The institution's name", "Alpha College"),
    "institution.registration_number": ("The institution's registration number", "2015/123456/07"),
    "admin.full_name": ("The signing admin's full name", "Lerato Khumalo"),
    "today": ("The date the agreement is sent", "22 November 2026"),
}


class AgreementTemplate(models.Model):
    """An agreement an institution has people sign: the main agreement of a cohort, a
    student's agreement, a sponsor's. Knows nothing about cohorts.

    Versioning is copy-on-write: the template row always holds the current text, and each
    version is also kept as a `TemplateVersion`. Editing a version that no submission uses yet
    changes it in place; editing one that has been sent creates the next version, so every
    sent submission keeps pointing at the exact text it was made from."""

    title = models.CharField(max_length=200)
    body = models.TextField(
        help_text="The agreement's text as HTML, with merge fields such as {{ cohort.name }}. "
        "Plain text without tags is shown as paragraphs."
    )
    signer_roles = ArrayField(
        models.CharField(max_length=30, choices=SignerRole.choices),
        default=list,
        blank=True,
        help_text="Who signs, in signing order.",
    )
    version = models.PositiveIntegerField(default=1)
    is_archived = models.BooleanField(
        default=False, help_text="Archived templates cannot be picked for new cohorts."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        permissions = [
            (
                "manage_templates",
                "Write and change agreement templates, and resend or revoke agreements sent for "
                "signature.",
            ),
            (
                "manage_certificate",
                "Upload the institution's signing certificate, which seals every signed agreement.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def signer_role_labels(self) -> list[str]:
        labels = dict(SignerRole.choices)
        return [labels.get(role, role) for role in self.signer_roles]


class TemplateVersion(models.Model):
    """One version of a template's text and signers, as submissions were made from it."""

    template = models.ForeignKey(
        AgreementTemplate, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    signer_roles = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


def _random_name(prefix: str, extension: str) -> str:
    return f"signing/{prefix}/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.{extension}"


def original_pdf_path(instance: "Submission", filename: str) -> str:
    return _random_name("original", "pdf")


def final_pdf_path(instance: "Submission", filename: str) -> str:
    return _random_name("final", "pdf")


def signature_image_path(instance: "Submitter", filename: str) -> str:
    return _random_name("signatures", "png")


class SubmissionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for signatures"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"


class Submission(models.Model):
    """One filling of a template, frozen at send time: the rendered HTML, the PDF people sign
    and its SHA-256 never change afterwards. `subject_type`/`subject_id` say what it is for
    (e.g. "cohorts.cohort", "12"); `on_complete` is the name of a callback that an app
    registered (signing.callbacks), called as `on_complete(submission=...)` in the transaction
    that completes it; `on_decline`, likewise, when a signer declines."""

    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="submissions"
    )
    title = models.CharField(max_length=200)
    html = models.TextField(help_text="The rendered agreement, as frozen at send time.")
    context = models.JSONField(default=dict, blank=True)
    original_pdf = models.FileField(upload_to=original_pdf_path, max_length=300)
    original_sha256 = models.CharField(max_length=64)
    final_pdf = models.FileField(upload_to=final_pdf_path, max_length=300, blank=True)
    final_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        max_length=20, choices=SubmissionStatus.choices, default=SubmissionStatus.PENDING
    )
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    on_complete = models.CharField(max_length=200, blank=True)
    on_decline = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)

    # Not a field: what signing.selectors.subjects_attach found the subject to be, for lists.
    subject_object: models.Model | None

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    def subject(self) -> models.Model | None:
        """The object this submission is for, if it still exists."""
        if not self.subject_type:
            return None
        model = apps.get_model(self.subject_type)
        return model._default_manager.filter(pk=self.subject_id).first()


class Submitter(models.Model):
    """One person who signs a submission, in `order` (1 first). What they did, when and from
    where is kept for the audit certificate."""

    # Audit events record that these changed, never their values (audit.services).
    PERSONAL_FIELDS = frozenset(
        {
            "name",
            "email",
            "signed_name",
            "signature_text",
            "signature_image",
            "decline_reason",
            "ip_address",
            "user_agent",
        }
    )

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="submitters")
    role = models.CharField(max_length=30, choices=SignerRole.choices)
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The signer's account here, if they have one (callbacks act as them).",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    signed_name = models.CharField(max_length=200, blank=True)
    signature_text = models.CharField(max_length=200, blank=True)
    signature_image = models.FileField(upload_to=signature_image_path, max_length=300, blank=True)
    consent_text = models.TextField(blank=True)
    consent_sha256 = models.CharField(max_length=64, blank=True)
    decline_reason = models.TextField(blank=True)
    notify_turn = models.BooleanField(
        default=True,
        help_text="Whether the signer is e-mailed a link when their turn comes. Off for signers "
        "reached elsewhere: in their account (the institution's signatory on the cohort page) "
        "or on a page that lists several agreements (the sponsor's).",
    )

    class Meta:
        ordering = ["submission", "order"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "order"], name="submitter_order_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"

    @property
    def latest_link(self) -> "SigningLink | None":
        """The link made last (from prefetched `links` when the caller loaded them)."""
        return max(self.links.all(), key=lambda link: link.created_at, default=None)

    @property
    def is_done(self) -> bool:
        return self.signed_at is not None or self.declined_at is not None


class SigningLink(models.Model):
    """An e-mailed link for one submitter. Only the SHA-256 of its token is stored. A new link
    revokes the earlier ones, so an old e-mail can say "replaced" rather than "unknown"."""

    submitter = models.ForeignKey(Submitter, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the signer was reminded that this link expires."
    )
    emailed = models.BooleanField(
        help_text="Whether the link was e-mailed (a link made for a signer already on the page "
        "is not, and is never reminded)."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Link for {self.submitter}"

    @property
    def state(self) -> str:
        """ "usable", "used" (the signer has signed or declined), "revoked" or "expired"."""
        if self.submitter.is_done:
            return "used"
        if self.revoked_at is not None or self.submitter.submission.status != "pending":
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "usable"


class SubmissionEvent(models.Model):
    """The submission's own trail (created, sent, opened, signed, declined, completed ...),
    printed on the audit certificate. Written only by signing.services."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    submitter = models.ForeignKey(
        Submitter, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    LABELS = {
        "sent": "Link e-mailed",
        "resent": "New link e-mailed",
        "reminded": "Reminder e-mailed",
        "readdressed": "Signer's contact changed",
    }

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def label(self) -> str:
        """What happened, in words: "Link e-mailed", "Opened", ..."""
        if self.kind in self.LABELS and self.data.get("notified") is False:
            return "Signing started on the page"  # a signer already signed in, not e-mailed
        return self.LABELS.get(self.kind, self.kind.capitalize())


class CertificateSource(models.TextChoices):
    GENERATED = "generated", "Made by Cohortly at provisioning"
    UPLOADED = "uploaded", "Uploaded by the institution (PKCS#12)"


class InstitutionCertificate(models.Model):
    """The key pair and certificate this institution seals completed agreements with. The
    private key is stored encrypted with a key derived from the deployment's secret. An
    uploaded certificate may come with its issuers' certificates (`chain_pem`), which are
    embedded in each seal so that readers can build the path to a trusted root."""

    subject_name = models.CharField(max_length=300)
    source = models.CharField(
        max_length=20, choices=CertificateSource.choices, default=CertificateSource.GENERATED
    )
    certificate_pem = models.TextField()
    chain_pem = models.TextField(blank=True)
    not_valid_after = models.DateTimeField(null=True, blank=True)
    private_key_encrypted = models.BinaryField()
    fingerprint_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="one_active_institution_certificate",
            )
        ]

    def __str__(self) -> str:
        return self.subject_name


class RetiredKind(models.TextChoices):
    AGREEMENT = "agreement", "Signed agreement"
    CERTIFICATE = "certificate", "Certificate or statement of results"


class RetiredDocument(models.Model):
    """A sealed document deleted once the institution's legal retention period ended: only its
    SHA-256, kind and dates are kept, so that the verify pages can say it was retired under the
    institution's retention rules rather than that it is unknown. Written only by
    signing.services.retention."""

    sha256 = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=20, choices=RetiredKind.choices)
    reference = models.CharField(
        max_length=64, blank=True, help_text="A code the document carried (a certificate's)."
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-retired_at"]
        indexes = [
            models.Index(
                fields=["reference"],
                condition=~models.Q(reference=""),
                name="retired_document_reference",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} retired {self.retired_at:%Y-%m-%d}"
