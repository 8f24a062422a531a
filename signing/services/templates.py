"""Agreement templates and their versions (copy-on-write: see AgreementTemplate)."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models, transaction

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from signing import documents
from signing.models import AgreementTemplate, SignerRole, TemplateVersion


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


def _clean_template_input(
    *, title: str, body: str, signer_roles: Iterable[str]
) -> tuple[str, str, list[str]]:
    errors: dict[str, list[str]] = {}
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
    permission_check(
        actor=actor, permission="signing.manage_templates", action="signing.template_create"
    )
    title, body, roles = _clean_template_input(title=title, body=body, signer_roles=signer_roles)
    with transaction.atomic(durable=True):
        template = AgreementTemplate.objects.create(
            title=title, body=body, signer_roles=roles, created_by=actor
        )
        TemplateVersion.objects.create(
            template=template,
            number=1,
            title=title,
            body=body,
            signer_roles=roles,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="signing.template_created",
            entity=template,
            new_values={"title": title, "signer_roles": roles},
        )
    return template


def template_update(
    *,
    template: AgreementTemplate,
    title: str,
    body: str,
    signer_roles: Iterable[str],
    actor: User,
) -> AgreementTemplate:
    """Change the template's text or signers. If the current version has been sent, a new
    version is made and the sent submissions keep theirs; otherwise it changes in place."""
    permission_check(
        actor=actor, permission="signing.manage_templates", action="signing.template_update"
    )
    title, body, roles = _clean_template_input(title=title, body=body, signer_roles=signer_roles)
    with transaction.atomic(durable=True):
        template = AgreementTemplate.objects.select_for_update().get(pk=template.pk)
        old = {
            "title": template.title,
            "signer_roles": template.signer_roles,
            "version": template.version,
        }
        current = template.versions.filter(number=template.version).first()
        if current is None or current.submissions.exists():
            template.version = (template.versions.aggregate(n=models.Max("number"))["n"] or 0) + 1
            TemplateVersion.objects.create(
                template=template,
                number=template.version,
                title=title,
                body=body,
                signer_roles=roles,
                created_by=actor,
            )
        else:
            current.title, current.body, current.signer_roles = title, body, roles
            current.save(update_fields=["title", "body", "signer_roles"])
        template.title, template.body, template.signer_roles = title, body, roles
        template.save(update_fields=["title", "body", "signer_roles", "version", "updated_at"])
        audit_record(
            actor=actor,
            action="signing.template_updated",
            entity=template,
            old_values=old,
            new_values={"title": title, "signer_roles": roles, "version": template.version},
        )
    return template
