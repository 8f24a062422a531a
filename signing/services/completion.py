"""What a signer does from their link (opens the document, signs it or declines), and the
completion the last signature brings: the signatures stamped on the pages, the signature page
and audit certificate, the institution's seal, the e-mails and the caller's callback, all in
the last signature's transaction."""

import datetime
import io
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import refusals_kept
from audit.context import current_context
from notifications.services import email_enqueue
from signing import callbacks, documents
from signing.models import SigningLink, Submission, SubmissionStatus, Submitter
from signing.sealing import pdf_seal
from signing.selectors import next_submitter, waiting_for
from signing.services.certificates import certificate_for_institution
from signing.services.links import link_issue
from signing.services.trail import submission_audit_record, submission_event_record, submission_lock
from tenants.db import tenant_connection
from tenants.sites import institution_url
from tenants.storage import file_store, files_removed_on_failure
from tenants.zones import EXACT_MOMENT_FORMAT, institution_zone, moment_text, zone_description

MAX_SIGNATURE_PNG_BYTES = 512 * 1024
# What a signer is told when their signature (or the sealed PDF it completes) could not be
# stored; the person who sends an agreement is told tenants.storage.STORAGE_FAILED_MESSAGE.
SIGNATURE_STORAGE_FAILED_MESSAGE = "We could not save your signature. Try again later."

CONSENT_TEXT = (
    "I agree to sign this document electronically. I understand that my electronic signature "
    "binds me as a handwritten one would, and that a record of when, where from and how I "
    "signed is kept with the document."
)
CONSENT_SHA256 = documents.sha256_hex(CONSENT_TEXT.encode())


def _usable_link(link: SigningLink) -> tuple[SigningLink, Submitter]:
    """Re-read the link under the submission's lock and refuse it unless it is usable now and
    it is its signer's turn."""
    submission = submission_lock(link.submitter.submission)
    link = SigningLink.objects.select_related("submitter__submission").get(pk=link.pk)
    if link.state != "usable":
        raise PermissionDenied(f"link {link.state}")
    submitter = link.submitter
    if submitter.user is not None and submitter.user.is_deleted:
        raise PermissionDenied("link revoked: the signer's account was deleted")
    submitter.submission = submission
    earlier = waiting_for(submitter)
    if earlier is not None:
        raise ValidationError(f"Waiting for the {earlier.get_role_display().lower()} to sign.")
    return link, submitter


def submitter_open(*, link: SigningLink) -> Submitter:
    """Record that the signer opened the document (the first time; later views add nothing)."""
    with transaction.atomic(durable=True):
        link, submitter = _usable_link(link)
        if submitter.opened_at is None:
            context = current_context()
            submitter.opened_at = timezone.now()
            submitter.ip_address = context.ip_address
            submitter.user_agent = (context.user_agent or "")[:500]
            submitter.save(update_fields=["opened_at", "ip_address", "user_agent"])
            submission_event_record(submitter.submission, "opened", submitter)
            submission_audit_record(
                "submission_opened",
                submitter.submission,
                concerning=submitter,
                submitter=submitter.pk,
                role=submitter.role,
            )
    return submitter


def _check_png(data: bytes) -> None:
    from PIL import Image

    if len(data) > MAX_SIGNATURE_PNG_BYTES or not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationError({"signature_image": "The drawn signature could not be read."})
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception as error:
        raise ValidationError({"signature_image": "The drawn signature could not be read."}) from (
            error
        )


def submitter_sign(
    *,
    link: SigningLink,
    signed_name: str,
    consent: bool,
    signature_text: str = "",
    signature_png: bytes | None = None,
) -> Submitter:
    """Sign with a typed name or a drawn image, after consenting to sign electronically. The
    last signer's signature completes the submission; otherwise the next signer is e-mailed.
    If the storage cannot keep the drawn image or the sealed PDF, nothing is signed and the
    signer is told SIGNATURE_STORAGE_FAILED_MESSAGE."""
    signed_name = (signed_name or "").strip()
    signature_text = (signature_text or "").strip()
    _signature_errors(signed_name, consent, signature_text, drawn=bool(signature_png))
    if signature_png:
        _check_png(signature_png)
    with refusals_kept(), files_removed_on_failure() as stored, transaction.atomic(durable=True):
        link, submitter = _usable_link(link)
        _signature_record(
            submitter,
            stored,
            signed_name=signed_name,
            signature_text=signature_text,
            signature_png=signature_png,
        )
    return submitter


def _signature_errors(signed_name: str, consent: bool, signature_text: str, drawn: bool) -> None:
    errors: dict[str, str] = {}
    if not signed_name:
        errors["signed_name"] = "Type your full name."
    if not consent:
        errors["consent"] = "Tick the box to agree to sign electronically."
    if not signature_text and not drawn:
        errors["signature_text"] = "Type your signature or draw it."
    if errors:
        raise ValidationError(errors)


def _signature_record(
    submitter: Submitter,
    stored: list[FieldFile],
    *,
    signed_name: str,
    signature_text: str,
    signature_png: bytes | None,
    reached_by: str = "",
) -> None:
    """Inside the signature's transaction, on the locked submission (`submitter.submission`):
    record the consent and the signature (and, for one signed without a link, where they were:
    `reached_by`, which the certificate gives), then complete the submission if this was the
    last one, or reach the next signer (by e-mailed link, unless they are reached elsewhere)."""
    submission = submitter.submission
    context = current_context()
    now = timezone.now()
    submitter.signed_name = signed_name
    submitter.signature_text = "" if signature_png else signature_text
    if signature_png:
        file_store(
            submitter.signature_image,
            name="signature.png",
            content=signature_png,
            failure_message=SIGNATURE_STORAGE_FAILED_MESSAGE,
            described_as=f"the signature of signer {submitter.pk} of submission {submission.pk}",
        )
        stored.append(submitter.signature_image)
    submitter.consent_text = CONSENT_TEXT
    submitter.consent_sha256 = CONSENT_SHA256
    submitter.opened_at = submitter.opened_at or now
    submitter.consented_at = now
    submitter.signed_at = now
    submitter.ip_address = context.ip_address
    submitter.user_agent = (context.user_agent or "")[:500]
    submitter.save()
    submission_event_record(
        submission, "consented", submitter, consent_sha256=submitter.consent_sha256
    )
    extra = {"reached_by": reached_by} if reached_by else {}
    submission_event_record(submission, "signed", submitter, drawn=bool(signature_png), **extra)
    following = next_submitter(submission)
    # The sealed PDF is made before the audit trail's entry: writing one holds the trail's lock
    # until the transaction ends, so rendering after it would make the processes of a bulk
    # countersigning wait for each other.
    completion = _completion_prepare(submission) if following is None else None
    submission_audit_record(
        "submission_signed",
        submission,
        concerning=submitter,
        submitter=submitter.pk,
        role=submitter.role,
        drawn=bool(signature_png),
    )
    if completion is not None:
        _complete(submission, stored, completion)
    elif following is not None and following.notify_turn:
        link_issue(following, notify=True)


def submitter_sign_in_place(
    *,
    submission: Submission,
    role: str,
    signed_name: str,
    consent: bool,
    signature_text: str,
    user: User | None = None,
) -> Submitter:
    """Sign as the `role` signer without a link, where the signer already is: the institution's
    signatory in their account (`user`, who becomes the signer of record: whoever of the
    institution's signatories signs is the one the certificate names) or the sponsor on the
    page that lists their agreements. The caller has checked that they may sign for that role.
    Refused unless it is that role's turn. Durable: one document per transaction, so that each
    gets its own signature, trail entry and seal, and a failure keeps the ones before."""
    signed_name = (signed_name or "").strip()
    signature_text = (signature_text or "").strip()
    _signature_errors(signed_name, consent, signature_text, drawn=False)
    with refusals_kept(), files_removed_on_failure() as stored, transaction.atomic(durable=True):
        submitter = _turn_of(submission, role)
        if user is not None:
            submitter.user = user
            submitter.name = user.full_name or user.email
            submitter.email = user.email
        SigningLink.objects.filter(submitter=submitter, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        _signature_record(
            submitter,
            stored,
            signed_name=signed_name,
            signature_text=signature_text,
            signature_png=None,
            reached_by=f"Signed in to their account, {submitter.email}"
            if user is not None
            else f"On the page of agreements e-mailed to {submitter.email}",
        )
    return submitter


def submitter_decline(*, link: SigningLink, reason: str) -> Submitter:
    """Decline with a reason: the submission stops and every other link stops working."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you decline."})
    with refusals_kept(), transaction.atomic(durable=True):
        link, submitter = _usable_link(link)
        _decline_record(submitter, reason)
    return submitter


def submitter_decline_in_place(*, submission: Submission, role: str, reason: str) -> Submitter:
    """Decline as the `role` signer without a link, on a page that lists their agreements (the
    sponsor's); the caller has checked that they may answer for that role. Refused unless it
    is that role's turn."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you decline."})
    with refusals_kept(), transaction.atomic(durable=True):
        submitter = _turn_of(submission, role)
        _decline_record(submitter, reason)
    return submitter


def _turn_of(submission: Submission, role: str) -> Submitter:
    """The locked submission's signer whose turn it is, refused unless it is `role`'s."""
    submission = submission_lock(submission)
    if submission.status != SubmissionStatus.PENDING:
        raise ValidationError(f"“{submission.title}” is {submission.get_status_display().lower()}.")
    submitter = next_submitter(submission)
    if submitter is None or submitter.role != role:
        waiting = submitter.get_role_display().lower() if submitter else "nobody"
        raise ValidationError(f"“{submission.title}” is waiting for the {waiting} to sign.")
    submitter.submission = submission
    return submitter


def _decline_record(submitter: Submitter, reason: str) -> None:
    """Inside the decline's transaction, on the locked submission: the submission stops, every
    link stops working, and its decline callback runs."""
    submission = submitter.submission
    now = timezone.now()
    context = current_context()
    submitter.declined_at = now
    submitter.decline_reason = reason
    submitter.ip_address = context.ip_address
    submitter.user_agent = (context.user_agent or "")[:500]
    submitter.save(update_fields=["declined_at", "decline_reason", "ip_address", "user_agent"])
    submission.status = SubmissionStatus.DECLINED
    submission.declined_at = now
    submission.save(update_fields=["status", "declined_at"])
    SigningLink.objects.filter(submitter__submission=submission, revoked_at__isnull=True).update(
        revoked_at=now
    )
    submission_event_record(submission, "declined", submitter, reason=reason)
    submission_audit_record(
        "submission_declined",
        submission,
        concerning=submitter,
        submitter=submitter.pk,
        role=submitter.role,
        decline_reason=reason,
    )
    if submission.on_decline:
        on_decline = callbacks.callback_for(submission.on_decline)
        on_decline(submission=submission, submitter=submitter)


def _reached_by(submitter: Submitter) -> str:
    """How the signer was reached, for the certificate: as their signature recorded it when
    they signed without a link, else by their latest link."""
    for event in submitter.events.all():
        if event.kind == "signed" and event.data.get("reached_by"):
            return str(event.data["reached_by"])
    link = submitter.latest_link
    if link is not None and link.emailed:
        return f"E-mailed link to {submitter.email}"
    return f"Signed in to their account, {submitter.email}"


def submission_final_pdf(
    submission: Submission, *, completed_at: datetime.datetime | None = None
) -> bytes:
    """The signed document with the signatures stamped on each page, then its signature page
    and audit certificate, sealed with the institution's certificate. Its times are in the
    institution's zone, labelled, as the verify page gives them; `completed_at` is the moment
    the submission records as its completion. Reads the submission's current rows; writes
    nothing (but the institution's certificate, on first use)."""
    zone = institution_zone()

    def _when(moment: datetime.datetime | None) -> str:
        return moment_text(moment, EXACT_MOMENT_FORMAT, zone=zone)

    signers = []
    for submitter in submission.submitters.order_by("order").prefetch_related("links", "events"):
        png = None
        if submitter.signature_image:
            with submitter.signature_image.open("rb") as image:
                png = image.read()
        signers.append(
            {
                "role": submitter.get_role_display(),
                "email": submitter.email,
                "reached_by": _reached_by(submitter),
                "signed_name": submitter.signed_name,
                "signature_text": submitter.signature_text,
                "signature_src": documents.png_data_uri(png),
                "opened_at": _when(submitter.opened_at),
                "consented_at": _when(submitter.consented_at),
                "signed_at": _when(submitter.signed_at),
                "ip_address": submitter.ip_address or "",
                "user_agent": submitter.user_agent,
                "consent_sha256": submitter.consent_sha256,
            }
        )
    events = [
        {
            "at": _when(event.created_at),
            "kind": event.label,
            "who": f"{event.submitter.name} ({event.submitter.get_role_display()})"
            if event.submitter
            else "system",
            "ip_address": event.ip_address,
        }
        for event in submission.events.select_related("submitter")
    ]
    completed_at = completed_at or timezone.now()
    events.append({"at": _when(completed_at), "kind": "Completed and sealed", "who": "system"})
    with submission.original_pdf.open("rb") as original_file:
        original = original_file.read()
    institution = tenant_connection.tenant
    document = documents.completion_pdf(
        signed=documents.signed_pages_pdf(original, signers),
        submission_title=submission.title,
        institution_name=institution.name,
        signers=signers,
        events=events,
        original_sha256=submission.original_sha256,
        verify_url=institution_url(institution, reverse("signing_public:verify")),
        time_zone=zone_description(zone, completed_at),
    )
    return pdf_seal(
        document,
        certificate=certificate_for_institution(),
        reason=f"{submission.title}: signed by all parties",
    )


@dataclass(frozen=True)
class _Completion:
    completed_at: datetime.datetime  # the certificate's and the verify page's completion time
    final_pdf: bytes  # sealed


def _completion_prepare(submission: Submission) -> _Completion:
    completed_at = timezone.now()
    return _Completion(completed_at, submission_final_pdf(submission, completed_at=completed_at))


def _complete(submission: Submission, stored: list[FieldFile], completion: _Completion) -> None:
    """Inside the last signature's transaction, with its sealed PDF made: store it (listing the
    file in `stored`), e-mail everyone the final PDF and run the completion callback, so that a
    failure anywhere leaves the submission unsigned."""
    completed_at, final = completion.completed_at, completion.final_pdf
    file_store(
        submission.final_pdf,
        name="final.pdf",
        content=final,
        failure_message=SIGNATURE_STORAGE_FAILED_MESSAGE,
        described_as=f"the sealed PDF of submission {submission.pk}",
    )
    stored.append(submission.final_pdf)
    submission.final_sha256 = documents.sha256_hex(final)
    submission.status = SubmissionStatus.COMPLETED
    submission.completed_at = completed_at
    submission.save(update_fields=["final_pdf", "final_sha256", "status", "completed_at"])
    submission_event_record(submission, "completed", final_sha256=submission.final_sha256)
    submission_audit_record(
        "submission_completed",
        submission,
        final_sha256=submission.final_sha256,
        original_sha256=submission.original_sha256,
    )
    filename = f"{submission.title[:80]} (signed).pdf".replace("/", "-")
    verify_url = institution_url(tenant_connection.tenant, reverse("signing_public:verify"))
    for submitter in submission.submitters.all():
        email_enqueue(
            recipient=submitter.email,
            template="signing_completed",
            context={
                "full_name": submitter.name,
                "title": submission.title,
                "completed_at": moment_text(completed_at, EXACT_MOMENT_FORMAT),
                "verify_url": verify_url,
                "attachments": [
                    {
                        "path": submission.final_pdf.name,
                        "filename": filename,
                        "mimetype": "application/pdf",
                    }
                ],
            },
        )
    if submission.on_complete:
        callbacks.callback_for(submission.on_complete)(submission=submission)
