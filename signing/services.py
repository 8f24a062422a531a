"""Every write in signing: templates and their versions, submissions, links, opening, signing,
declining, and completion (stamping, the audit certificate and the institution's seal).

Signers reached by an e-mailed link are anonymous: their audit events have no actor and name the
submitter instead, never their address or words. Each service runs in one transaction and writes
its audit event in it: the entry points (pages, tasks) in a durable one, and the composable
ones that other apps call inside their own (`submission_create`, `submission_send`,
`submission_revoke_in_transaction`, `submissions_revoke_pending`) in the caller's."""

import datetime
import io
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import User
from accounts.permissions import TEMPLATE_MANAGERS, permission_check
from accounts.services import token_hash
from audit.context import current_context
from audit.services import audit_record, personal_values_masked
from notifications.services import email_enqueue
from signing import documents
from signing.models import (
    AgreementTemplate,
    SignerRole,
    SigningLink,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    Submitter,
    TemplateVersion,
)
from signing.sealing import certificate_for_institution, pdf_seal
from signing.selectors import standard_merge_values
from tenants.services import institution_url

MAX_SIGNATURE_PNG_BYTES = 512 * 1024

CONSENT_TEXT = (
    "I agree to sign this document electronically. I understand that my electronic signature "
    "binds me as a handwritten one would, and that a record of when, where from and how I "
    "signed is kept with the document."
)


def link_ttl() -> datetime.timedelta:
    """How long a new signing link works: the current institution's own setting."""
    return datetime.timedelta(days=connection.tenant.signing_link_days)


def _clean_roles(roles: Iterable[str]) -> list[str]:
    roles = list(roles)
    unknown = [role for role in roles if role not in SignerRole.values]
    if unknown:
        raise ValidationError({"signer_roles": f"Unknown signer role: {', '.join(unknown)}."})
    if not roles:
        raise ValidationError({"signer_roles": "Choose at least one signer."})
    if len(set(roles)) != len(roles):
        raise ValidationError({"signer_roles": "Each signer role may appear once."})
    return roles


def _clean_template_input(*, title: str, body: str, signer_roles: Iterable[str]) -> tuple:
    errors: dict[str, list] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = ["Give the template a title."]
    body = documents.body_sanitise(body)
    if not body.strip():
        errors["body"] = ["Write the agreement's text."]
    else:
        try:
            documents.merge_fields_used(body)
        except ValidationError as error:
            errors["body"] = error.messages
    try:
        roles = _clean_roles(signer_roles)
    except ValidationError as error:
        errors.update(error.message_dict)
        roles = []
    if errors:
        raise ValidationError(errors)
    return title, body, roles


def template_create(
    *, title: str, body: str, signer_roles: Iterable[str], actor: User
) -> AgreementTemplate:
    permission_check(actor=actor, roles=TEMPLATE_MANAGERS, action="signing.template_create")
    title, body, roles = _clean_template_input(title=title, body=body, signer_roles=signer_roles)
    with transaction.atomic(durable=True):
        template = AgreementTemplate.objects.create(
            title=title, body=body, signer_roles=roles, created_by=actor
        )
        TemplateVersion.objects.create(
            template=template, number=1, title=title, body=body, signer_roles=roles,
            created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="signing.template_created",
            entity_type="signing.agreementtemplate",
            entity_id=template.pk,
            new_values={"title": title, "signer_roles": roles},
        )
    return template


def template_update(
    *, template: AgreementTemplate, title: str, body: str, signer_roles: Iterable[str],
    actor: User,
) -> AgreementTemplate:  # fmt: skip
    """Change the template's text or signers. If the current version has been sent, a new
    version is made and the sent submissions keep theirs; otherwise it changes in place."""
    permission_check(actor=actor, roles=TEMPLATE_MANAGERS, action="signing.template_update")
    title, body, roles = _clean_template_input(title=title, body=body, signer_roles=signer_roles)
    with transaction.atomic(durable=True):
        template = AgreementTemplate.objects.select_for_update().get(pk=template.pk)
        old = {"title": template.title, "signer_roles": template.signer_roles,
               "version": template.version}  # fmt: skip
        current = template.versions.filter(number=template.version).first()
        if current is None or current.submissions.exists():
            template.version = (template.versions.aggregate(n=models.Max("number"))["n"] or 0) + 1
            TemplateVersion.objects.create(
                template=template, number=template.version, title=title, body=body,
                signer_roles=roles, created_by=actor,
            )  # fmt: skip
        else:
            current.title, current.body, current.signer_roles = title, body, roles
            current.save(update_fields=["title", "body", "signer_roles"])
        template.title, template.body, template.signer_roles = title, body, roles
        template.save(update_fields=["title", "body", "signer_roles", "version", "updated_at"])
        audit_record(
            actor=actor,
            action="signing.template_updated",
            entity_type="signing.agreementtemplate",
            entity_id=template.pk,
            old_values=old,
            new_values={"title": title, "signer_roles": roles, "version": template.version},
        )
    return template


def template_body_preview_html(body: str) -> str:
    """An unsaved body, sanitised and filled with example values, as the editor shows it.
    Raises ValidationError for unknown merge fields, as saving would."""
    return documents.body_fill(documents.body_sanitise(body), documents.preview_values())


def template_preview_pdf(*, template: AgreementTemplate) -> bytes:
    """The current text rendered with example values, as signers would see it."""
    body_html = documents.body_fill(template.body, documents.preview_values())
    html = documents.document_html(
        title=template.title, body_html=body_html, institution_name=connection.tenant.name
    )
    return documents.html_to_pdf(html)


def _event(
    submission: Submission, kind: str, submitter: Submitter | None = None, **data: Any
) -> SubmissionEvent:
    context = current_context()
    return SubmissionEvent.objects.create(
        submission=submission,
        submitter=submitter,
        kind=kind,
        ip_address=context.ip_address,
        user_agent=(context.user_agent or "")[:500],
        data=data,
    )


def _audit(action: str, submission: Submission, actor: User | None = None, **values: Any):
    """An event about the submission; values named as a signer's fields (their decline reason)
    are recorded as changed only, as that signer's personal values."""
    _, values = personal_values_masked(Submitter, {}, values)
    audit_record(actor=actor, action=f"signing.{action}", entity=submission, new_values=values)


def submission_create(
    *, template: AgreementTemplate, context: dict[str, Any], signers: list[dict[str, Any]],
    on_complete: str = "", on_decline: str = "", subject: models.Model | None = None,
    actor: User | None = None, version: TemplateVersion | None = None,
) -> Submission:  # fmt: skip
    """Fill `version` of the template (its current one if not given) with `context` (merge
    field name -> value), render and freeze the PDF, and create its signers. `signers` are
    dicts with role, name, email and optionally user; their roles must be among the version's,
    and they sign in its order. `on_decline`, if given, is called as
    `on_decline(submission=..., submitter=...)`. Nothing is e-mailed: call `submission_send`
    to send the first link. Composable: runs in the caller's transaction if there is one."""
    if version is None:
        version = template.versions.get(number=template.version)
    elif version.template_id != template.pk:
        raise ValidationError(f"That is not a version of {template.title}.")
    for callback in filter(None, [on_complete, on_decline]):
        try:
            import_string(callback)
        except ImportError as error:
            raise ValidationError(f"Unknown callback {callback!r}.") from error
    by_role = {}
    for signer in signers:
        role = signer.get("role")
        if role not in version.signer_roles:
            raise ValidationError(f"{version.title} has no signer role {role!r}.")
        if role in by_role:
            raise ValidationError(f"Two signers for the role {role!r}.")
        if not (signer.get("name") or "").strip() or not (signer.get("email") or "").strip():
            raise ValidationError(f"The {role} signer needs a name and an e-mail address.")
        by_role[role] = signer
    if not by_role:
        raise ValidationError("A submission needs at least one signer.")
    institution = connection.tenant
    values = standard_merge_values() | context
    with transaction.atomic():
        body_html = documents.body_fill(version.body, values)
        html = documents.document_html(
            title=version.title, body_html=body_html, institution_name=institution.name
        )
        pdf = documents.html_to_pdf(html)
        submission = Submission(
            template_version=version,
            title=version.title,
            html=html,
            context={name: str(value) for name, value in values.items()},
            original_sha256=documents.sha256_hex(pdf),
            subject_type=subject._meta.label_lower if subject is not None else "",
            subject_id=str(subject.pk) if subject is not None else "",
            on_complete=on_complete,
            on_decline=on_decline,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        submission.original_pdf.save("original.pdf", ContentFile(pdf), save=False)
        submission.save()
        roles_in_order = [role for role in version.signer_roles if role in by_role]
        for order, role in enumerate(roles_in_order, 1):
            signer = by_role[role]
            Submitter.objects.create(
                submission=submission, role=role, order=order, name=signer["name"].strip(),
                email=signer["email"].strip().lower(), user=signer.get("user"),
            )  # fmt: skip
        _event(submission, "created", template_version=version.number)
        _audit(
            "submission_created", submission, actor, title=submission.title,
            template_version=version.number, signers=roles_in_order,
            subject=f"{submission.subject_type}:{submission.subject_id}",
            original_sha256=submission.original_sha256,
        )  # fmt: skip
    return submission


def next_submitter(submission: Submission) -> Submitter | None:
    """The first signer, in order, who has not signed yet."""
    return submission.submitters.filter(signed_at__isnull=True).order_by("order").first()


def waiting_for(submitter: Submitter) -> Submitter | None:
    """The earlier signer this one waits for, or None when it is their turn."""
    return (
        submitter.submission.submitters.filter(order__lt=submitter.order, signed_at__isnull=True)
        .order_by("order")
        .first()
    )


def signing_url(token: str) -> str:
    return institution_url(connection.tenant, reverse("signing_public:sign", args=[token]))


def _link_issue(
    submitter: Submitter, *, notify: bool, reminder_of: SigningLink | None = None
) -> str:
    """Revoke the signer's earlier links and make a new one; returns its full URL. With
    `reminder_of`, the new link replaces that one as a reminder: it keeps its expiry, is marked
    reminded, and the e-mail says the deadline is close."""
    now = timezone.now()
    kind = "reminded" if reminder_of else "resent" if submitter.links.exists() else "sent"
    submitter.links.filter(revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)  # 256 bits
    link = SigningLink.objects.create(
        submitter=submitter,
        token_hash=token_hash(token),
        expires_at=reminder_of.expires_at if reminder_of else now + link_ttl(),
        reminded_at=now if reminder_of else None,
        emailed=notify,
    )
    url = signing_url(token)
    submitter.sent_at = now
    submitter.save(update_fields=["sent_at"])
    submission = submitter.submission
    _event(submission, kind, submitter, to=submitter.email, notified=notify)
    if notify:
        email_enqueue(
            recipient=submitter.email,
            template="signing_reminder" if reminder_of else "signing_request",
            context={
                "full_name": submitter.name,
                "title": submission.title,
                "role": submitter.get_role_display(),
                "sign_url": url,
                "expires_at": timezone.localtime(link.expires_at).strftime("%d %B %Y %H:%M"),
            },
        )
    return url


def _lock_submission(submission: Submission) -> Submission:
    return Submission.objects.select_for_update().get(pk=submission.pk)


def submission_send(
    *, submission: Submission, notify: bool = True, actor: User | None = None
) -> str:
    """Send the next signer a fresh link (by e-mail unless `notify` is False, e.g. when the
    signer is the admin who is already on the page); returns the link's URL. Composable: the
    services that make a submission send it in their own transaction."""
    with transaction.atomic():
        submission = _lock_submission(submission)
        if submission.status != SubmissionStatus.PENDING:
            raise ValidationError(f"This agreement is {submission.get_status_display().lower()}.")
        submitter = next_submitter(submission)
        if submitter is None:
            raise ValidationError("Everyone has signed this agreement.")
        url = _link_issue(submitter, notify=notify)
        _audit("link_sent", submission, actor, submitter=submitter.pk, role=submitter.role)
    return url


def link_resend(*, link: SigningLink) -> None:
    """From an expired or replaced link: e-mail a fresh one to the same address."""
    with transaction.atomic(durable=True):
        submission = _lock_submission(link.submitter.submission)
        submitter = Submitter.objects.get(pk=link.submitter_id)
        if submission.status != SubmissionStatus.PENDING:
            raise ValidationError(
                f"This agreement is {submission.get_status_display().lower()}: "
                "there is nothing left to sign."
            )
        if submitter.is_done:
            raise ValidationError("You have already acted on this agreement.")
        _link_issue(submitter, notify=True)
        _audit("link_resent", submission, submitter=submitter.pk, role=submitter.role)


def submission_resend(*, submission: Submission, actor: User) -> None:
    """An admin sends the signer whose turn it is a fresh link by e-mail (their old one stops
    working), e.g. when the first e-mail was lost."""
    permission_check(actor=actor, roles=TEMPLATE_MANAGERS, action="signing.submission_resend")
    with transaction.atomic(durable=True):
        submission_send(submission=submission, notify=True, actor=actor)


def _links_due_reminder(now: datetime.datetime) -> models.QuerySet[SigningLink]:
    """Usable e-mailed links, not yet reminded, that expire within the reminder window, of
    pending submissions whose signer is next in line (no earlier signer still to sign). A link
    is also past half its life, so that a short lifetime (an institution may choose one day)
    does not bring a reminder right after the first e-mail. A link made for a signer already on
    the page (the portal's, the admin's) was never e-mailed: a reminder of it would be news."""
    earlier_unsigned = Submitter.objects.filter(
        submission=models.OuterRef("submitter__submission"),
        order__lt=models.OuterRef("submitter__order"),
        signed_at__isnull=True,
    )
    half_life = models.ExpressionWrapper(
        (models.F("expires_at") - models.F("created_at")) / 2, output_field=models.DurationField()
    )
    halfway = models.F("created_at") + half_life
    return (
        SigningLink.objects.alias(halfway=halfway)
        .filter(
            halfway__lte=now,
            emailed=True,
            revoked_at__isnull=True,
            reminded_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + settings.SIGNING_REMINDER_BEFORE,
            submitter__signed_at__isnull=True,
            submitter__declined_at__isnull=True,
            submitter__submission__status=SubmissionStatus.PENDING,
        )
        .exclude(models.Exists(earlier_unsigned))
    )


def link_remind(*, link: SigningLink, now: datetime.datetime | None = None) -> bool:
    """Remind the signer that their link is about to expire, with a fresh link (the token is
    stored hashed, so the old URL cannot be repeated). The new link keeps the old one's expiry:
    a reminder is a nudge, not an extension, and a full new period would bring the link back
    into the window again and again. Returns False when, re-checked under the submission's
    lock, the link is no longer due (already reminded, signed, replaced or expired)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        submission = _lock_submission(link.submitter.submission)
        link = _links_due_reminder(now).select_related("submitter").filter(pk=link.pk).first()
        if link is None:
            return False
        submitter = link.submitter
        submitter.submission = submission
        _link_issue(submitter, notify=True, reminder_of=link)
        _audit(
            "link_reminded", submission, submitter=submitter.pk, role=submitter.role,
            expires_at=link.expires_at.isoformat(),
        )  # fmt: skip
    return True


def links_remind_expiring(*, now: datetime.datetime | None = None) -> int:
    """Remind every signer in this schema whose link expires within SIGNING_REMINDER_BEFORE;
    returns how many were reminded. Each link is re-checked under its own lock, so running it
    twice, or twice at once, reminds nobody twice."""
    now = now or timezone.now()
    due = _links_due_reminder(now).select_related("submitter__submission").order_by("pk")
    return sum(link_remind(link=link, now=now) for link in list(due))


def submission_revoke(*, submission: Submission, actor: User, reason: str = "") -> Submission:
    """Stop a submission: every link stops working."""
    permission_check(actor=actor, roles=TEMPLATE_MANAGERS, action="signing.submission_revoke")
    with transaction.atomic(durable=True):
        return submission_revoke_in_transaction(submission=submission, actor=actor, reason=reason)


def submission_revoke_in_transaction(
    *, submission: Submission, actor: User, reason: str = ""
) -> Submission:
    """`submission_revoke` inside the caller's transaction (composable: a cohort or sponsor
    change revokes the agreement that no longer applies as part of itself)."""
    permission_check(actor=actor, roles=TEMPLATE_MANAGERS, action="signing.submission_revoke")
    with transaction.atomic():
        submission = _lock_submission(submission)
        if submission.status != SubmissionStatus.PENDING:
            raise ValidationError(f"This agreement is {submission.get_status_display().lower()}.")
        _revoke(submission, actor, reason)
    return submission


def _revoke(submission: Submission, actor: User | None, reason: str) -> None:
    """Revoke a locked, pending submission."""
    submission.status = SubmissionStatus.REVOKED
    submission.save(update_fields=["status"])
    SigningLink.objects.filter(submitter__submission=submission, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _event(
        submission, "revoked", reason=reason,
        by=(actor.full_name or actor.email) if actor is not None else "",
    )  # fmt: skip
    _audit("submission_revoked", submission, actor, reason=reason)


def submissions_revoke_pending(
    *, subjects: Iterable[models.Model], actor: User | None, reason: str
) -> int:
    """Revoke every agreement still waiting for a signature about `subjects` (a cancelled
    cohort and its enrolments, a withdrawn student ...), so that nobody signs, or is reminded
    to sign, what no longer applies; returns how many. The caller has checked its own
    permission (withdrawing a student is the admin's decision, not a signing one) and runs
    this in its transaction."""
    ids_by_type: dict[str, list[str]] = defaultdict(list)
    for subject in subjects:
        ids_by_type[subject._meta.label_lower].append(str(subject.pk))
    by_subject = models.Q(pk__in=[])
    for subject_type, subject_ids in ids_by_type.items():
        by_subject |= models.Q(subject_type=subject_type, subject_id__in=subject_ids)
    pending = (
        Submission.objects.select_for_update()
        .filter(by_subject, status=SubmissionStatus.PENDING)
        .order_by("pk")
    )
    revoked = 0
    for submission in pending:
        _revoke(submission, actor, reason)
        revoked += 1
    return revoked


def link_for_token(token: str) -> SigningLink | None:
    return (
        SigningLink.objects.select_related("submitter__submission")
        .filter(token_hash=token_hash(token))
        .first()
    )


def _usable_link(link: SigningLink) -> tuple[SigningLink, Submitter]:
    """Re-read the link under the submission's lock and refuse it unless it is usable now and
    it is its signer's turn."""
    submission = _lock_submission(link.submitter.submission)
    link = SigningLink.objects.select_related("submitter__submission").get(pk=link.pk)
    if link.state != "usable":
        raise PermissionDenied(f"link {link.state}")
    submitter = link.submitter
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
            _event(submitter.submission, "opened", submitter)
            _audit("submission_opened", submitter.submission, submitter=submitter.pk,
                   role=submitter.role)  # fmt: skip
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
    *, link: SigningLink, signed_name: str, consent: bool, signature_text: str = "",
    signature_png: bytes | None = None,
) -> Submitter:  # fmt: skip
    """Sign with a typed name or a drawn image, after consenting to sign electronically. The
    last signer's signature completes the submission; otherwise the next signer is e-mailed."""
    errors: dict[str, str] = {}
    signed_name = (signed_name or "").strip()
    signature_text = (signature_text or "").strip()
    if not signed_name:
        errors["signed_name"] = "Type your full name."
    if not consent:
        errors["consent"] = "Tick the box to agree to sign electronically."
    if not signature_text and not signature_png:
        errors["signature_text"] = "Type your signature or draw it."
    if errors:
        raise ValidationError(errors)
    if signature_png:
        _check_png(signature_png)
    with _files_removed_on_failure() as stored, transaction.atomic(durable=True):
        link, submitter = _usable_link(link)
        submission = submitter.submission
        context = current_context()
        now = timezone.now()
        submitter.signed_name = signed_name
        submitter.signature_text = "" if signature_png else signature_text
        if signature_png:
            submitter.signature_image.save("signature.png", ContentFile(signature_png), save=False)
            stored.append(submitter.signature_image)
        submitter.consent_text = CONSENT_TEXT
        submitter.consent_sha256 = documents.sha256_hex(CONSENT_TEXT.encode())
        submitter.opened_at = submitter.opened_at or now
        submitter.consented_at = now
        submitter.signed_at = now
        submitter.ip_address = context.ip_address
        submitter.user_agent = (context.user_agent or "")[:500]
        submitter.save()
        _event(submission, "consented", submitter, consent_sha256=submitter.consent_sha256)
        _event(submission, "signed", submitter, drawn=bool(signature_png))
        _audit(
            "submission_signed", submission, submitter=submitter.pk, role=submitter.role,
            drawn=bool(signature_png),
        )  # fmt: skip
        if next_submitter(submission) is None:
            _complete(submission, stored)
        else:
            _link_issue(next_submitter(submission), notify=True)
    return submitter


def submitter_decline(*, link: SigningLink, reason: str) -> Submitter:
    """Decline with a reason: the submission stops and every other link stops working."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you decline."})
    with transaction.atomic(durable=True):
        link, submitter = _usable_link(link)
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
        SigningLink.objects.filter(
            submitter__submission=submission, revoked_at__isnull=True
        ).exclude(pk=link.pk).update(revoked_at=now)
        _event(submission, "declined", submitter, reason=reason)
        _audit("submission_declined", submission, submitter=submitter.pk, role=submitter.role,
               decline_reason=reason)  # fmt: skip
        if submission.on_decline:
            import_string(submission.on_decline)(submission=submission, submitter=submitter)
    return submitter


def _when(moment: datetime.datetime | None) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def submission_final_pdf(submission: Submission) -> bytes:
    """The signed document with the signatures stamped on each page, then its signature page
    and audit certificate, sealed with the institution's certificate. Reads the submission's
    current rows; writes nothing."""
    signers = []
    for submitter in submission.submitters.order_by("order").prefetch_related("links"):
        png = None
        if submitter.signature_image:
            with submitter.signature_image.open("rb") as image:
                png = image.read()
        link = submitter.latest_link
        signers.append(
            {
                "role": submitter.get_role_display(),
                "email": submitter.email,
                "reached_by": f"E-mailed link to {submitter.email}"
                if link is not None and link.emailed
                else f"Signed in to their account, {submitter.email}",
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
    events.append({"at": _when(timezone.now()), "kind": "Completed and sealed", "who": "system"})
    with submission.original_pdf.open("rb") as original_file:
        original = original_file.read()
    document = documents.completion_pdf(
        signed=documents.signed_pages_pdf(original, signers),
        submission_title=submission.title,
        institution_name=connection.tenant.name,
        signers=signers,
        events=events,
        original_sha256=submission.original_sha256,
        verify_url=institution_url(connection.tenant, reverse("signing_public:verify")),
    )
    return pdf_seal(
        document,
        certificate=certificate_for_institution(),
        reason=f"{submission.title}: signed by all parties",
    )


@contextmanager
def _files_removed_on_failure() -> Iterator[list[FieldFile]]:
    """Files saved to storage inside a transaction stay when it rolls back: the caller lists
    what it saved, and they are deleted if anything fails, so that no orphan is left."""
    stored: list[FieldFile] = []
    try:
        yield stored
    except BaseException:
        for file in stored:
            if file.name:
                file.storage.delete(file.name)
        raise


def _complete(submission: Submission, stored: list[FieldFile]) -> None:
    """Inside the last signature's transaction: seal, store (listing the file in `stored`),
    e-mail everyone the final PDF and run the completion callback, so that a failure anywhere
    leaves the submission unsigned."""
    final = submission_final_pdf(submission)
    submission.final_pdf.save("final.pdf", ContentFile(final), save=False)
    stored.append(submission.final_pdf)
    submission.final_sha256 = documents.sha256_hex(final)
    submission.status = SubmissionStatus.COMPLETED
    submission.completed_at = timezone.now()
    submission.save(update_fields=["final_pdf", "final_sha256", "status", "completed_at"])
    _event(submission, "completed", final_sha256=submission.final_sha256)
    _audit("submission_completed", submission, final_sha256=submission.final_sha256,
           original_sha256=submission.original_sha256)  # fmt: skip
    filename = f"{submission.title[:80]} (signed).pdf".replace("/", "-")
    for submitter in submission.submitters.all():
        email_enqueue(
            recipient=submitter.email,
            template="signing_completed",
            context={
                "full_name": submitter.name,
                "title": submission.title,
                "verify_url": institution_url(connection.tenant, reverse("signing_public:verify")),
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
        import_string(submission.on_complete)(submission=submission)
