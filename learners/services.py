"""Every write to a learner: each checks permission, runs in one transaction (or the caller's)
and records its audit event, which names the fields that changed, never their values."""

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import CHANGED, audit_actor_forget, audit_record
from learners.consents import consent_wording
from learners.keys import (
    data_key_create,
    data_keys_ensure,
    data_keys_rewrap,
    keys_forget,
    master_fingerprint,
    master_keys,
    national_id_decrypt,
    national_id_digest,
    national_id_encrypt,
    national_id_reencrypt,
)
from learners.models import (
    LEARNER_DETAIL_FIELDS,
    ConsentKind,
    ConsentMethod,
    IdentityType,
    KeyPurpose,
    Learner,
    LearnerConsent,
    LearnerStatus,
)
from learners.selectors import learner_merge_plan
from learners.signals import (
    learner_consent_changed,
    learner_merged,
    learner_national_id_changed,
    learner_verified_facts_changed,
)
from notifications.services import outbound_emails_forget
from tenants.db import tenant_connection
from tenants.directory import directory_entry_remove

# What a verified identity document vouches for: changing one sends it back for review.
VERIFIED_FACTS = frozenset(
    {"national_id_type", "national_id_country", "national_id_hash", "date_of_birth", "gender"}
)


def names_split(full_name: str) -> tuple[str, str]:
    """First names and surname from one name as people type it ("Thandi Grace Mokoena"): the
    last word is the surname. A single word is a first name."""
    words = full_name.split()
    if len(words) < 2:
        return (" ".join(words), "")
    return (" ".join(words[:-1]), words[-1])


def national_id_fields(*, kind: str, country: str, number: str) -> dict[str, Any]:
    """The stored form of a number: encrypted, its keyed hash and its last four characters.
    Empty fields for no number."""
    if not number:
        return {
            "national_id_type": "",
            "national_id_country": "",
            "national_id_encrypted": None,
            "national_id_hash": "",
            "national_id_last4": "",
        }
    country = "ZA" if kind == IdentityType.SA_ID else country.upper()
    digest = national_id_digest(number, kind=kind, country=country)
    normalised = "".join(number.split()).upper()
    return {
        "national_id_type": kind,
        "national_id_country": country,
        "national_id_encrypted": national_id_encrypt(number),
        "national_id_hash": digest,
        "national_id_last4": normalised[-4:],
    }


def national_id_holder(
    *, kind: str, country: str, number: str, excluding: Learner | None = None
) -> Learner | None:
    """The learner who already has this number, found by its keyed hash."""
    country = "ZA" if kind == IdentityType.SA_ID else country.upper()
    holders = Learner.objects.filter(
        national_id_hash=national_id_digest(number, kind=kind, country=country)
    )
    if excluding is not None:
        holders = holders.exclude(pk=excluding.pk)
    holder: Learner | None = holders.first()
    return holder


# The codes of a refused ID number, for forms that put the refusal beside their number field.
NATIONAL_ID_REFUSALS = ("national_id_taken", "national_id_differs")


def national_id_taken_error(holder: Learner) -> ValidationError:
    return ValidationError(
        "This ID number belongs to %(name)s (learner %(pk)s) already. If they are the same "
        "person, an admin can merge the two records.",
        code="national_id_taken",
        params={"name": holder.full_name or holder.email, "pk": holder.pk},
    )


def learner_national_id_set(
    learner: Learner, *, kind: str, country: str = "", number: str
) -> list[str]:
    """Put a number on `learner` (not saved), refusing one another learner has. The fields
    that changed, for the caller's audit event."""
    if number:
        holder = national_id_holder(kind=kind, country=country, number=number, excluding=learner)
        if holder is not None:
            raise national_id_taken_error(holder)
    fields = national_id_fields(kind=kind, country=country, number=number)
    if fields["national_id_hash"] == learner.national_id_hash and (
        fields["national_id_type"] == learner.national_id_type
    ):
        return []
    for name, value in fields.items():
        setattr(learner, name, value)
    return list(fields)


def learner_national_id(learner: Learner) -> str:
    """The number in clear, for code that works on it without showing it (the verification
    cross-check). Anything that shows it or sends it out goes through `national_id_produce`."""
    if learner.national_id_encrypted is None:
        return ""
    return national_id_decrypt(learner.national_id_encrypted)


def national_id_produce(*, learner: Learner, actor: User | None, purpose: str) -> str:
    """The number in clear for something that must carry it (a sealed PDF, the gateway's
    encrypted payload, an export, an allowed person's "show"), audited with its purpose, in
    the caller's transaction when there is one."""
    number = learner_national_id(learner)
    if not number:
        return ""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="learner.national_id_produced",
            entity=learner,
            new_values={"purpose": purpose},
        )
    return number


def national_id_reveal(*, learner: Learner, actor: User) -> str:
    """A person with the right to see it asked to see a learner's full number."""
    permission_check(
        actor=actor,
        permission="learners.view_national_id",
        action="learners.national_id_reveal",
    )
    return national_id_produce(learner=learner, actor=actor, purpose="shown")


def learner_for_user(user: User, *, actor: User | None, id_number: str = "") -> Learner:
    """The learner whose account `user` is, made now (from the account's name and e-mail, with
    an ID number the admin typed) if there is none yet. In the caller's transaction; the
    caller has checked that `actor` may enrol."""
    existing: Learner | None = Learner.objects.select_for_update().filter(user=user).first()
    if existing is not None:
        if (
            id_number
            and existing.national_id_hash
            and national_id_holder(kind=IdentityType.SA_ID, country="ZA", number=id_number)
            != existing
        ):
            raise ValidationError(
                "%(email)s has a different ID number on file (ending %(last4)s): check the "
                "number, or leave it empty.",
                code="national_id_differs",
                params={"email": user.email, "last4": existing.national_id_last4},
            )
        if id_number and not existing.national_id_hash:
            changed = learner_national_id_set(existing, kind=IdentityType.SA_ID, number=id_number)
            existing.updated_by = actor
            existing.save()
            audit_record(
                actor=actor,
                action="learner.changed",
                entity=existing,
                new_values=dict.fromkeys(changed, ""),
            )
        return existing
    first_name, last_name = names_split(user.full_name)
    learner: Learner = Learner(
        user=user,
        first_name=first_name,
        last_name=last_name,
        email=user.email,
        created_by=actor,
        updated_by=actor,
    )
    if id_number:
        learner_national_id_set(learner, kind=IdentityType.SA_ID, number=id_number)
    learner.save()
    audit_record(actor=actor, action="learner.created", entity=learner, new_values={})
    return learner


def learner_activate_if_candidate(learner: Learner) -> None:
    """A candidate who starts an enrolment is an active learner. In the caller's transaction
    (the student's first step is recorded on the enrolment)."""
    if learner.status == LearnerStatus.CANDIDATE:
        learner.activate()
        learner.save(update_fields=["status", "updated_at"])
        audit_record(action="learner.activated", entity=learner)


def learner_graduate_if_done(learner: Learner) -> None:
    """A learner whose every enrolment (withdrawals aside) has its programme outcome, one of
    them completed, is alumni. In the caller's transaction (an outcome being recorded). The
    enrolment's values are named here as enrolments stores them: learners stands below it."""
    enrollments = learner.enrollments.exclude(state="withdrawn")
    if enrollments.filter(programme_outcome="").exists():
        return
    if not enrollments.filter(programme_outcome="completed").exists():
        return
    old_status = learner.status
    if learner.status == LearnerStatus.CANDIDATE:
        learner.activate()
    if learner.status != LearnerStatus.ACTIVE:
        return
    learner.graduate()
    learner.save(update_fields=["status", "updated_at"])
    audit_record(
        action="learner.graduated",
        entity=learner,
        old_values={"status": old_status},
        new_values={"status": LearnerStatus.ALUMNI},
    )


def learner_details_save(*, learner: Learner, actor: User, details: dict[str, Any]) -> list[str]:
    """Save validated details (learners.forms.LearnerDetailsForm) on `learner`, in the caller's
    transaction: the student's own, or an admin's. Returns the fields that changed."""
    changed = [
        name
        for name in LEARNER_DETAIL_FIELDS
        if name in details and getattr(learner, name) != details[name]
    ]
    for name in changed:
        setattr(learner, name, details[name])
    if "national_id_number" in details:
        changed += learner_national_id_set(
            learner,
            kind=details.get("national_id_type") or IdentityType.SA_ID,
            country=details.get("national_id_country", ""),
            number=details["national_id_number"],
        )
    if learner.user_id is not None and learner.user_id == actor.pk:
        # The student confirmed their details; an admin's edit does not do it for them.
        learner.details_completed_at = timezone.now()
    learner.updated_by = actor
    learner.save()
    if "national_id_hash" in changed:
        learner_national_id_changed.send(sender=Learner, learner=learner, actor=actor)
    audit_record(
        actor=actor,
        action="learner.details_saved",
        entity=learner,
        new_values={"fields": sorted(changed), **dict.fromkeys(changed, "")},
    )
    return changed


@dataclass(frozen=True)
class KeyRotation:
    rewrapped: int
    encryption_version: int
    master_fingerprint: str


def learner_keys_rotate() -> KeyRotation:
    """Rotate this institution's keys (the `learner_keys_rotate` command, run by the operator):
    every data key is wrapped again under the current master key, so that an older master key
    can then be withdrawn, and a new encryption key version encrypts from now on; older
    versions keep decrypting. Running it again does no harm: it adds another version."""
    with transaction.atomic(durable=True):
        data_keys_ensure()
        rewrapped = data_keys_rewrap()
        key = data_key_create(KeyPurpose.ENCRYPTION)
        rotation = KeyRotation(
            rewrapped=rewrapped,
            encryption_version=key.version,
            master_fingerprint=master_fingerprint(master_keys()[0]),
        )
        audit_record(
            action="learner.keys_rotated",
            entity=key,
            new_values={
                "rewrapped": rotation.rewrapped,
                "encryption_version": rotation.encryption_version,
                "master_fingerprint": rotation.master_fingerprint,
            },
        )
    return rotation


@dataclass(frozen=True)
class Reencryption:
    reencrypted: int
    already_current: int


def learner_ids_reencrypt(*, batch_size: int = 1000) -> Reencryption:
    """Encrypt every learner's number of this institution again under the current encryption
    key version (after a rotation, before an old data key is destroyed). Each batch is its own
    transaction with its rows locked and its audit event, so a long run holds no lock for
    long and an interrupted one resumes where it stopped."""
    keys_forget()  # another process may have rotated: start from the stored keys
    reencrypted = already_current = 0
    last_pk = 0
    while True:
        with transaction.atomic(durable=True):
            batch = list(
                Learner.objects.select_for_update()
                .filter(pk__gt=last_pk, national_id_encrypted__isnull=False)
                .order_by("pk")
                .only("pk", "national_id_encrypted")[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1].pk
            changed = []
            for learner in batch:
                blob = national_id_reencrypt(cast(bytes, learner.national_id_encrypted))
                if blob is None:
                    already_current += 1
                    continue
                learner.national_id_encrypted = blob
                changed.append(learner)
            if changed:
                Learner.objects.bulk_update(changed, ["national_id_encrypted"])
                audit_record(
                    action="learner.national_ids_reencrypted",
                    entity_type=Learner._meta.label_lower,
                    new_values={
                        "learners": len(changed),
                        "first_pk": changed[0].pk,
                        "last_pk": changed[-1].pk,
                    },
                )
            reencrypted += len(changed)
    return Reencryption(reencrypted=reencrypted, already_current=already_current)


# What the staff's learner form names besides the details (LearnerDetailsForm).
NAME_FIELDS = ("first_name", "last_name", "email")


def learner_create(*, actor: User, names: dict[str, str], details: dict[str, Any]) -> Learner:
    """An admin registers a learner who may have no account yet (a candidate): `names` as
    NAME_FIELDS, `details` as LearnerDetailsForm.details(). A number another learner has is
    refused naming them (learner_national_id_set)."""
    permission_check(
        actor=actor, permission="learners.manage_learners", action="learners.learner_create"
    )
    with transaction.atomic(durable=True):
        learner: Learner = Learner(created_by=actor, updated_by=actor, **names)
        learner.full_clean(exclude=["status"], validate_constraints=False)
        learner.save()
        given = sorted(name for name in NAME_FIELDS if names.get(name))
        audit_record(
            actor=actor,
            action="learner.created",
            entity=learner,
            new_values={"fields": given, **dict.fromkeys(given, "")},
        )
        learner_details_save(learner=learner, actor=actor, details=details)
    return learner


def learner_update(
    *, learner: Learner, actor: User, names: dict[str, str], details: dict[str, Any]
) -> list[str]:
    """An admin changes a learner's names, e-mail and details. The fields that changed. A change
    to a fact a verified identity document vouches for sends it back to review, as the
    learner's own change does (`learner_profile_save`)."""
    permission_check(
        actor=actor, permission="learners.manage_learners", action="learners.learner_update"
    )
    with transaction.atomic(durable=True):
        learner = Learner.objects.select_for_update().get(pk=learner.pk)
        renamed = [name for name in NAME_FIELDS if getattr(learner, name) != names[name]]
        for name in renamed:
            setattr(learner, name, names[name])
        if renamed:
            learner.full_clean(exclude=["status"], validate_constraints=False)
            audit_record(
                actor=actor,
                action="learner.changed",
                entity=learner,
                new_values={"fields": renamed, **dict.fromkeys(renamed, "")},
            )
        changed = renamed + learner_details_save(learner=learner, actor=actor, details=details)
        learner_verified_facts_review(learner=learner, changed=changed, actor=actor)
    return changed


def learner_merge(*, keep: Learner, other: Learner, actor: User) -> Learner:
    """`other` is the same person as `keep`: their enrolments, documents and consents move to
    `keep` (of two current documents of a type, the later one stays current), `keep`'s empty
    fields are filled from `other`, the later answer to each consent counts, `other`'s account
    moves when `keep` has none, and `other` is archived without a number (so that its hash is
    free). The apps above are told (`learner_merged`), so that the moved enrolments follow the
    documents they count now. Refused, with the reasons, while
    learners.selectors.learner_merge_plan finds conflicts (both have an account; both are
    enrolled in one cohort)."""
    permission_check(
        actor=actor, permission="learners.merge_learners", action="learners.learner_merge"
    )
    with transaction.atomic(durable=True):
        locked = (
            Learner.objects.select_for_update(of=("self",))
            .select_related("user")
            .in_bulk(sorted({keep.pk, other.pk}))
        )
        keep, other = locked[keep.pk], locked[other.pk]
        plan = learner_merge_plan(keep=keep, other=other)
        if plan.conflicts:
            raise ValidationError(plan.conflicts, code="merge_conflict")
        moved_enrollments = other.enrollments.update(learner=keep)
        moved_documents, superseded_documents = _documents_move(keep=keep, other=other)
        moved_consents = other.consents.update(learner=keep)
        no_number = national_id_fields(kind="", country="", number="")
        number = {name: getattr(other, name) for name in no_number}
        account = other.user
        # The other record lets go of its account and number first: both are unique.
        for name, empty in no_number.items():
            setattr(other, name, empty)
        other.user = None
        other.archive()
        other.updated_by = actor
        other.save()
        for name in plan.filled:
            setattr(keep, name, getattr(other, name))
        if plan.number_moves:
            for name, value in number.items():
                setattr(keep, name, value)
        if plan.account_moves:
            keep.user = account
        keep.consent_flags = {
            **keep.consent_flags,
            **{kind: other.consent_flags[kind] for kind in plan.consent_kinds},
        }
        keep.updated_by = actor
        keep.save()
        filled = plan.filled + (sorted(number) if plan.number_moves else [])
        audit_record(
            actor=actor,
            action="learner.merged",
            entity=keep,
            new_values={
                "merged_learner": other.pk,
                "enrollments_moved": moved_enrollments,
                "documents_moved": moved_documents,
                "documents_no_longer_current": superseded_documents,
                "consents_moved": moved_consents,
                "account_moved": plan.account_moves,
                "fields": filled,
                **dict.fromkeys(filled, ""),
            },
        )
        audit_record(
            actor=actor,
            action="learner.merged_away",
            entity=other,
            new_values={"kept_learner": keep.pk, "status": other.status},
        )
        learner_merged.send(sender=Learner, learner=keep, actor=actor)
    return keep


def _documents_move(*, keep: Learner, other: Learner) -> tuple[int, int]:
    """Move `other`'s documents to `keep` (through StudentDocument.learner's reverse relation:
    enrolments is above learners). A learner has one current document per type, so where both
    have one, the earlier upload stops being current first. How many moved, and how many
    stopped being current."""
    documents = other.documents.model.objects
    current = documents.filter(learner__in=[keep.pk, other.pk], is_current=True).order_by(
        "-uploaded_at", "-pk"
    )
    types: set[int] = set()
    earlier = []
    for pk, document_type in current.values_list("pk", "document_type_id"):
        if document_type in types:
            earlier.append(pk)
        types.add(document_type)
    superseded: int = documents.filter(pk__in=earlier).update(is_current=False)
    moved: int = other.documents.update(learner=keep)
    return moved, superseded


@dataclass(frozen=True)
class ProfileSaved:
    """What a learner's own change did: the fields that changed, and how many of their verified
    documents went back to review because of it."""

    changed: list[str]
    documents_reopened: int


def learner_verified_facts_review(*, learner: Learner, changed: list[str], actor: User) -> int:
    """Send the verified documents that vouch for facts the learner just changed back to
    review (enrolments answers the signal), in the caller's transaction. How many went back."""
    facts = sorted(VERIFIED_FACTS.intersection(changed))
    if not facts:
        return 0
    answers = learner_verified_facts_changed.send(
        sender=Learner, learner=learner, fields=facts, actor=actor
    )
    return sum(int(reopened or 0) for _receiver, reopened in answers)


def learner_profile_save(*, learner: Learner, actor: User, details: dict[str, Any]) -> ProfileSaved:
    """A learner changes their own details on their profile (learners.forms.LearnerDetailsForm).
    A change to a fact a verified identity document vouches for sends that document back to
    review."""
    permission_check(
        actor=actor, allowed=learner.user_id == actor.pk, action="learners.learner_profile_save"
    )
    with transaction.atomic(durable=True):
        learner = Learner.objects.select_for_update().get(pk=learner.pk)
        changed = learner_details_save(learner=learner, actor=actor, details=details)
        reopened = learner_verified_facts_review(learner=learner, changed=changed, actor=actor)
    return ProfileSaved(changed=changed, documents_reopened=reopened)


def _consent_permission_check(*, learner: Learner, actor: User | None, method: str) -> None:
    """The learner answers for themself in the portal; a person who manages learners records
    an answer given otherwise (on paper)."""
    if actor is None:
        return
    own = learner.user_id == actor.pk
    permission_check(
        actor=actor,
        allowed=(own and method == ConsentMethod.PORTAL)
        or (not own and method != ConsentMethod.PORTAL and actor.may("learners.manage_learners")),
        action="learners.consent_record",
    )


def consent_record(
    *, learner: Learner, kind: str, given: bool, method: str, actor: User | None
) -> LearnerConsent:
    """Record a learner's answer to one consent, to its current wording: a history row, the
    current answer in `consent_flags`, an audit event, and the signal that lets what depends on
    the consent act on it (a gateway sync waiting for it goes)."""
    if kind not in ConsentKind.values:
        raise ValidationError(f"Not a consent: {kind!r}.", code="consent_kind")
    if method not in ConsentMethod.values:
        raise ValidationError(f"Not a way of recording a consent: {method!r}.", code="method")
    _consent_permission_check(learner=learner, actor=actor, method=method)
    wording = consent_wording(kind)
    with transaction.atomic(durable=True):
        locked = Learner.objects.select_for_update().get(pk=learner.pk)
        previous = (locked.consent_flags or {}).get(kind) or {}
        answer = LearnerConsent.objects.create(
            learner=locked,
            kind=kind,
            wording_version=wording.version,
            given=given,
            method=method,
            recorded_by=actor,
        )
        locked.consent_flags = {
            **(locked.consent_flags or {}),
            kind: {
                "given": given,
                "version": wording.version,
                "at": answer.recorded_at.isoformat(),
                "method": method,
            },
        }
        locked.save(update_fields=["consent_flags", "updated_at"])
        audit_record(
            actor=actor,
            action="learner.consent_given" if given else "learner.consent_withdrawn",
            entity=locked,
            old_values={"given": previous.get("given"), "version": previous.get("version")},
            new_values={"kind": kind, "given": given, "version": wording.version, "method": method},
        )
        learner_consent_changed.send(
            sender=Learner, learner=locked, kind=kind, given=given, actor=actor
        )
    learner.consent_flags = locked.consent_flags  # the caller's copy says what was recorded
    return answer


def consent_withdraw(
    *, learner: Learner, kind: str, actor: User | None, method: str = ConsentMethod.PORTAL
) -> LearnerConsent:
    """The learner takes a consent back: recorded as an answer like any other, so that its
    history shows when it was given and when withdrawn."""
    return consent_record(learner=learner, kind=kind, given=False, method=method, actor=actor)


# What an anonymised learner is called on every page and in every list.
ANONYMISED_FIRST_NAME = "Anonymised"
ANONYMISED_LAST_NAME = "learner"
# The fields an anonymised learner keeps as they were: what aggregate reports need (the date of
# birth is kept only as the first day of its five-year band) and the consents' history.
ANONYMISATION_KEEPS = frozenset({"gender", "race", "disability", "consent_flags"})
BIRTH_BAND_YEARS = 5


def birth_band_start(born: date | None) -> date | None:
    """The first day of the five-year band `born` falls in (1997-06-12 → 1995-01-01): age
    bands survive anonymisation, the day of birth does not."""
    if born is None:
        return None
    return date(born.year - born.year % BIRTH_BAND_YEARS, 1, 1)


def learner_anonymise(*, learner: Learner) -> Learner:
    """Replace the learner's names, contact details, ID number, address and account details
    irreversibly; keep what reports need (ANONYMISATION_KEEPS and the date of birth's band).
    The learner's account can no longer sign in. Composed inside the data protection job's
    transaction (not durable), which checks the permission and also erases what other apps
    hold about the learner."""
    learner = Learner.objects.select_for_update().get(pk=learner.pk)
    if learner.is_anonymised:
        return learner
    email = learner.email
    learner.first_name, learner.last_name = ANONYMISED_FIRST_NAME, ANONYMISED_LAST_NAME
    for name in (
        "email",
        "phone_number",
        "national_id_type",
        "national_id_country",
        "national_id_hash",
        "national_id_last4",
        "citizenship",
        "home_language",
        "highest_qualification",
        "address_line1",
        "address_line2",
        "city",
        "province",
        "postal_code",
        "country",
    ):
        setattr(learner, name, "")
    learner.national_id_encrypted = None
    learner.date_of_birth = birth_band_start(learner.date_of_birth)
    if learner.status != LearnerStatus.ARCHIVED:
        learner.archive()
    learner.anonymised_at = timezone.now()
    learner.save()
    if learner.user is not None:
        _account_anonymise(learner.user, learner, email=email)
    audit_record(
        action="learner.anonymised",
        entity=learner,
        new_values={
            name: CHANGED for name in sorted(Learner.PERSONAL_FIELDS - ANONYMISATION_KEEPS)
        },
    )
    return learner


def _account_anonymise(user: User, learner: Learner, *, email: str) -> None:
    """The learner's account keeps its row (enrolments point at it) under a made-up address
    that names nobody, with no usable password, and can no longer sign in; the audit trail
    forgets who acted as it, and the e-mails kept for it (and for the learner's `email`) go."""
    user = User.objects.select_for_update().get(pk=user.pk)
    directory_entry_remove(email=user.email, institution=tenant_connection.tenant)
    outbound_emails_forget(recipients={user.email, email})
    audit_actor_forget(user=user)
    user.email = f"anonymised-learner-{learner.pk}@anonymised.invalid"
    user.full_name = f"{ANONYMISED_FIRST_NAME} {ANONYMISED_LAST_NAME}"
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["email", "full_name", "is_active", "password"])
    audit_record(
        action="user.anonymised",
        entity=user,
        new_values={"email": CHANGED, "full_name": CHANGED, "is_active": False},
    )
