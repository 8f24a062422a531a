"""The placement subject tree (seed 003 `PlacementSubject`): adding, changing and deactivating
subjects. The tree stays a tree: a parent that would close a cycle is refused with the path of
the cycle, found as academics finds a prerequisite cycle (the same kind of chain)."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from academics.prerequisites import cycle_message, prerequisite_path
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from placements.models import (
    OPEN_PLACEMENT_STATUSES,
    Placement,
    PlacementPreference,
    PlacementSubject,
)
from placements.preferences import subject_filter
from placements.services.memberships import MANAGE_ORGANISATIONS

SUBJECT_FIELDS = ("name", "code", "phase", "parent_id", "is_active")


def parent_refusal(
    *,
    subject: PlacementSubject,
    parent: PlacementSubject,
    edges: Mapping[int, int | None],
    names: Mapping[int, str],
) -> str:
    """Why `parent` may not be `subject`'s parent given the tree's `edges` (subject → parent),
    or "": itself, another phase, an inactive subject, or one within `subject` already (the
    cycle's path named)."""
    if subject.pk is not None and parent.pk == subject.pk:
        return f"{subject.name} cannot be within itself."
    if parent.phase != subject.phase:
        return (
            f"{parent.name} is a {parent.get_phase_display().lower()} subject; "
            f"{subject.name} is {subject.get_phase_display().lower()}: a subject sits within "
            "one of its own phase."
        )
    if not parent.is_active:
        return f"{parent.name} is no longer in use: choose an active subject."
    if subject.pk is None:
        return ""
    links = [(child, up) for child, up in edges.items() if up is not None and child != subject.pk]
    path = prerequisite_path(links, start=parent.pk, goal=subject.pk)
    if path is not None:
        return cycle_message([names[subject.pk], *(names[pk] for pk in path)], relation="is within")
    return ""


def _tree_locked() -> tuple[dict[int, int | None], dict[int, str]]:
    """Every subject's parent and name, with the rows locked: one change to the tree at a time,
    so that two changes each fine alone cannot close a cycle together."""
    rows = list(
        PlacementSubject.objects.select_for_update()
        .order_by("pk")
        .values_list("pk", "parent_id", "name")
    )
    return {pk: parent for pk, parent, _ in rows}, {pk: name for pk, _, name in rows}


def _values(subject: PlacementSubject) -> dict[str, object]:
    return {name: getattr(subject, name) for name in SUBJECT_FIELDS}


def _save(
    *, actor: User | None, subject: PlacementSubject, action: str, old: dict[str, object]
) -> PlacementSubject:
    """Check and save `subject` inside the caller's transaction, with the tree locked."""
    edges, names = _tree_locked()
    if subject.parent is not None:
        subject.parent = PlacementSubject.objects.get(pk=subject.parent.pk)  # as locked
        refusal = parent_refusal(subject=subject, parent=subject.parent, edges=edges, names=names)
        if refusal:
            raise ValidationError({"parent": refusal})
    if subject.pk is not None:
        other_phase = subject.children.filter(is_active=True).exclude(phase=subject.phase)
        if other_phase.exists():
            raise ValidationError(
                {
                    "phase": "Its subjects "
                    f"({', '.join(other_phase.values_list('name', flat=True))}) are of the other "
                    "phase: move them first."
                }
            )
    subject.code = subject.code.strip().upper()
    subject.name = subject.name.strip()
    subject.full_clean()
    subject.save()
    audit_record(
        actor=actor, action=action, entity=subject, old_values=old, new_values=_values(subject)
    )
    return subject


def subject_create(
    *,
    actor: User | None,
    name: str,
    code: str,
    phase: str,
    parent: PlacementSubject | None = None,
) -> PlacementSubject:
    """Add a subject to the tree, under `parent` (of the same phase) or at the top."""
    permission_check(
        actor=actor, permission=MANAGE_ORGANISATIONS, action="placement_subject.create"
    )
    with transaction.atomic(durable=True):
        subject = PlacementSubject(name=name, code=code, phase=phase, parent=parent)
        return _save(actor=actor, subject=subject, action="placement_subject.created", old={})


def _identity_kept(subject: PlacementSubject, *, code: str, phase: str) -> None:
    """Refuse a new code or phase for a subject that preferences or placements refer to:
    preferences hold the code and phase as JSON, so changing either would silently drop every
    offer of it. The name and the parent may change."""
    changed = [
        field
        for field, old, new in (("code", subject.code, code), ("phase", subject.phase, phase))
        if old != new
    ]
    if not changed:
        return
    preferences = PlacementPreference.objects.filter(
        placement_details__contains=subject_filter(subject=subject.code)
    ).count()
    placements = Placement.objects.filter(subject=subject).count()
    uses = [
        f"{count} {noun}{'s' * (count != 1)}"
        for count, noun in ((preferences, "preference"), (placements, "placement"))
        if count
    ]
    if not uses:
        return
    message = (
        f"{subject.name} is in use ({' and '.join(uses)}): its code and phase stay "
        f"{subject.code} and {subject.get_phase_display().lower()}, as organisations' "
        "preferences record them. Change its name or parent, or add a new subject and "
        "deactivate this one."
    )
    raise ValidationError(dict.fromkeys(changed, message))


def subject_update(
    *,
    actor: User | None,
    subject: PlacementSubject,
    name: str,
    code: str,
    phase: str,
    parent: PlacementSubject | None,
) -> PlacementSubject:
    """Change a subject. A parent within the subject already is refused with the cycle's
    path; so is a parent of the other phase, and a new code or phase while preferences or
    placements refer to the subject."""
    permission_check(
        actor=actor, permission=MANAGE_ORGANISATIONS, action="placement_subject.update"
    )
    with transaction.atomic(durable=True):
        subject = PlacementSubject.objects.select_for_update().get(pk=subject.pk)
        old = _values(subject)
        _identity_kept(subject, code=code.strip().upper(), phase=phase)
        subject.name, subject.code, subject.phase, subject.parent = name, code, phase, parent
        return _save(actor=actor, subject=subject, action="placement_subject.updated", old=old)


def subject_deactivate(*, actor: User | None, subject: PlacementSubject) -> PlacementSubject:
    """Stop offering a subject: it leaves the preference forms and the search. Refused while
    it has active subjects within it or open placements (proposed, confirmed or active)."""
    permission_check(
        actor=actor, permission=MANAGE_ORGANISATIONS, action="placement_subject.deactivate"
    )
    with transaction.atomic(durable=True):
        subject = PlacementSubject.objects.select_for_update().get(pk=subject.pk)
        if not subject.is_active:
            return subject
        children = list(subject.children.filter(is_active=True).values_list("name", flat=True))
        if children:
            raise ValidationError(
                f"{subject.name} has subjects within it ({', '.join(children)}): deactivate or "
                "move them first."
            )
        open_placements = Placement.objects.filter(
            subject=subject, status__in=OPEN_PLACEMENT_STATUSES
        ).count()
        if open_placements:
            raise ValidationError(
                f"{subject.name} has {open_placements} open placement"
                f"{'s' if open_placements != 1 else ''} (proposed, confirmed or active): end "
                "them first."
            )
        old = _values(subject)
        subject.is_active = False
        subject.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="placement_subject.deactivated",
            entity=subject,
            old_values=old,
            new_values=_values(subject),
        )
    return subject
