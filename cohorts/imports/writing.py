"""Writing an import's rows: `enrollments_import` enrols checked rows in a cohort in bulk
(accounts, enrolments, invitations and e-mails by COPY, audited), all or nothing, for the
upload pages' tasks and the `import_students` command alike."""

import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, SystemRole, User
from accounts.permissions import permission_check
from accounts.selectors import deleted_accounts_refuse, role_names_of
from accounts.services import system_role_give, token_hash
from audit.bulk import AuditEntry, audit_record_many, rows_copy
from cohorts.imports.validation import (
    array_of,
    learners_known,
    national_id_unsealed,
    rows_for_import,
    rows_refused,
)
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment, StudentDocument
from enrolments.services import (
    CLOSED_TO_JOINING,
    enrollment_agreements_send_on_commit,
    enrollment_refresh,
)
from integrations.services import sync_enqueue_many
from learners.models import Learner
from learners.services import names_split
from notifications.models import OutboundEmail
from tenants.db import tenant_connection
from tenants.directory import email_directory_hash
from tenants.models import Institution, InstitutionDirectoryEntry
from tenants.sites import institution_url
from tenants.zones import moment_text

# Columns that become the details of a learner made by the import.
LEARNER_COLUMNS = ("gender", "race", "disability")
# Delivery tasks queued per import: one per chunk of e-mails, not one per e-mail.
EMAIL_CHUNK = 250
EMAIL_QUEUE = "notifications"


@dataclass
class ImportResult:
    """What an import did (or, from `enrollments_import_plan`, would do)."""

    enrolled: int = 0
    new_accounts: int = 0
    existing_accounts: int = 0
    new_learners: int = 0
    existing_learners: int = 0
    already_enrolled: int = 0
    invitations: int = 0
    notices: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def manager_check(actor: User | None, action: str) -> None:
    """`actor=None` is the system (an operator's command), which may import anywhere."""
    permission_check(actor=actor, permission="enrolments.manage_enrolments", action=action)


def enrolling_check(cohort: Cohort) -> None:
    cohort.closed_check(CLOSED_TO_JOINING)


def _directory_entries_add(emails: list[str], institution: Institution) -> None:
    """What `tenants.services.directory_entry_add` does, for many addresses in one statement
    (one array parameter, not a row of parameters per address); existing entries stay."""
    if not emails:
        return
    meta = InstitutionDirectoryEntry._meta
    quote = connection.ops.quote_name
    hash_column = meta.get_field("email_hash").column
    institution_column = meta.get_field("institution").column
    # Set for every concrete field (None only for a relation without a column of its own).
    assert hash_column is not None
    assert institution_column is not None
    columns = f"{quote(hash_column)}, {quote(institution_column)}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
            "SELECT unnest(%s::varchar[]), %s ON CONFLICT DO NOTHING",
            [[email_directory_hash(email) for email in emails], institution.pk],
        )


def _emails_dispatch_on_commit(email_ids: list[int]) -> None:
    """Hand the e-mails to the workers after commit, a chunk per task: thousands of broker
    round trips would otherwise hold up the request. They go on the e-mail queue, beside
    single e-mails. The outbox sweep catches any that a lost task leaves queued."""
    from cohorts.tasks import import_emails_deliver

    for start in range(0, len(email_ids), EMAIL_CHUNK):
        import_emails_deliver.apply_async_on_commit(
            (email_ids[start : start + EMAIL_CHUNK],), queue=EMAIL_QUEUE
        )


def enrollments_import(
    *,
    cohort: Cohort,
    actor: User | None,
    rows: Iterable[Mapping[str, Any]],
    reference: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Enrol the students of `rows` (dicts with full_name, email and optional id_number,
    gender, race, disability; or `rows_check`'s, the ID number sealed) in `cohort`, all or
    nothing.

    New addresses get a student account without a password; an address that already has an
    account here is attached to it (and given the student role). Each row is matched to the
    learner its ID number and e-mail address belong to, or makes a new one; a row whose number
    and address are different people's refuses the import. Students already in the
    cohort are skipped, so importing the same rows twice adds nobody twice. Each new enrolment
    gets an invitation e-mail (or, for someone who has a password, a notice), queued in the
    outbox and delivered after commit. Writes are bulk (COPY): the number of queries does not grow
    with the number of rows. `progress(percent)` is called between steps."""
    manager_check(actor, "cohorts.enrollments_import")
    cleaned = rows_for_import(rows)

    def step(percent: int) -> None:
        if progress is not None:
            progress(percent)

    with transaction.atomic():
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        enrolling_check(cohort)
        institution = tenant_connection.tenant
        now = timezone.now()
        by_email = {row["email"]: row for row in cleaned}
        accounts = {
            user.email: user
            for user in User.objects.select_for_update()
            .filter(email__in=array_of(list(by_email)))
            .only("pk", "email", "full_name", "roles", "password", "deleted_at")
        }
        deleted_accounts_refuse(accounts.values())
        enrolled_ids = set(
            CohortEnrollment.objects.filter(
                cohort=cohort, user_id__in=[user.pk for user in accounts.values()]
            ).values_list("user_id", flat=True)
        )
        matched = _learners_matched(
            [
                row
                for email, row in by_email.items()
                if email not in accounts or accounts[email].pk not in enrolled_ids
            ]
        )
        step(10)

        new_users = [
            User(
                email=email,
                full_name=row["full_name"],
                # What set_unusable_password() stores, without its slower random string.
                password=UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
                date_joined=now,
            )
            for email, row in by_email.items()
            if email not in accounts
        ]
        rows_copy(User, new_users)
        _directory_entries_add([user.email for user in new_users], institution)
        attached = [user for user in accounts.values() if user.pk not in enrolled_ids]
        students = [*new_users, *attached]
        system_role_give(users=students, key=SystemRole.STUDENT, granted_by=actor)
        step(35)

        learners = _learners_for(students, by_email, matched, actor=actor, now=now)
        enrollments = [
            CohortEnrollment(cohort=cohort, user=student, learner=learners[student.pk])
            for student in students
        ]
        rows_copy(CohortEnrollment, enrollments)
        _returning_enrollments_refresh(enrollments)
        step(55)

        emails, invitations = _enrollment_emails(
            enrollments=enrollments,
            actor=actor,
            institution=institution,
            existing_ids={user.pk for user in accounts.values()},
            now=now,
        )
        rows_copy(Invitation, invitations)
        rows_copy(OutboundEmail, emails)
        _emails_dispatch_on_commit([email.pk for email in emails])
        step(75)

        result = ImportResult(
            enrolled=len(enrollments),
            new_accounts=len(new_users),
            existing_accounts=len(enrollments) - len(new_users),
            existing_learners=sum(learner is not None for learner in matched.values()),
            new_learners=sum(learner is None for learner in matched.values()),
            already_enrolled=len(enrolled_ids),
            invitations=len(invitations),
            notices=len(emails) - len(invitations),
        )
        audit_record_many(
            actor=actor,
            entries=[
                *(
                    AuditEntry.about(
                        enrollment,
                        action="enrollment.invited",
                        new_values={
                            "cohort": cohort.pk,
                            "student": enrollment.user.pk,
                            "import": reference,
                        },
                    )
                    for enrollment in enrollments
                ),
                AuditEntry.about(
                    cohort,
                    action="enrollment.imported",
                    new_values={"reference": reference, "rows": len(cleaned), **result.as_dict()},
                ),
            ],
        )
        sync_enqueue_many(enrollments)
        enrollment_agreements_send_on_commit(
            cohort=cohort, enrollment_ids=[enrollment.pk for enrollment in enrollments]
        )
        step(100)
    return result


def _learners_matched(rows: list[Mapping[str, Any]]) -> dict[str, Learner | None]:
    """The learner each row is, by e-mail address (None: a new one), matched again with those
    learners locked: a row that has become another person's since its check refuses the
    import. One query."""
    known = learners_known(rows, lock=True)
    matched: dict[str, Learner | None] = {}
    refused: list[tuple[int, list[str]]] = []
    for row in rows:
        try:
            matched[row["email"]] = known.match(row)
        except ValidationError as error:
            refused.append((int(row["line"]), error.messages))
    if refused:
        raise rows_refused(refused)
    return matched


def _returning_enrollments_refresh(enrollments: list[CohortEnrollment]) -> None:
    """The new enrolments of returning learners, whose documents may count already, with their
    states worked out as an invitation works them out (one query when nobody returns)."""
    returning = set(
        StudentDocument.objects.filter(
            is_current=True, learner_id__in=[enrollment.learner_id for enrollment in enrollments]
        ).values_list("learner_id", flat=True)
    )
    new_ids = [enrollment.pk for enrollment in enrollments if enrollment.learner_id in returning]
    for enrollment in (
        CohortEnrollment.objects.filter(pk__in=new_ids)
        .select_related("cohort", "learner")
        .order_by("pk")
    ):
        enrollment_refresh(enrollment)


def _learners_for(
    students: list[User],
    by_email: Mapping[str, Mapping[str, Any]],
    matched: Mapping[str, Learner | None],
    *,
    actor: User | None,
    now: datetime,
) -> dict[int, Learner]:
    """Each student's learner: the one their row matched, given the student's account and
    their row's ID number when it had neither (audited, by what changed); or one made now from
    their row (names, sealed ID number, details), by COPY. Bulk: a few queries in all."""
    learners: dict[int, Learner] = {}
    made: list[Learner] = []
    # Learners changed, grouped by the fields that changed, for one UPDATE per group.
    changed: dict[tuple[str, ...], list[Learner]] = defaultdict(list)
    for student in students:
        row = by_email[student.email]
        number = national_id_unsealed(row)
        learner = matched.get(student.email)
        if learner is None:
            first_name, last_name = names_split(student.full_name)
            learner = Learner(
                user=student,
                first_name=first_name,
                last_name=last_name,
                email=student.email,
                created_by=actor,
                updated_by=actor,
                **{key: row[key] for key in LEARNER_COLUMNS if row.get(key)},
                **number,
            )
            made.append(learner)
        else:
            fields: tuple[str, ...] = ()
            if learner.user_id is None:
                learner.user = student
                fields += ("user",)
            if number["national_id_hash"] and not learner.national_id_hash:
                for name, value in number.items():
                    setattr(learner, name, value)
                fields += tuple(number)
            if fields:
                learner.updated_by, learner.updated_at = actor, now
                changed[fields].append(learner)
        learners[student.pk] = learner
    rows_copy(Learner, made)
    for fields, group in changed.items():
        Learner.objects.bulk_update(group, [*fields, "updated_by", "updated_at"], batch_size=500)
    audit_record_many(
        actor=actor,
        entries=[
            AuditEntry.about(
                learner,
                action="learner.changed",
                new_values={name: learner.user_id if name == "user" else "" for name in fields},
            )
            for fields, group in changed.items()
            for learner in group
        ],
    )
    return learners


def _enrollment_emails(
    *,
    enrollments: list[CohortEnrollment],
    actor: User | None,
    institution: Institution,
    existing_ids: set[int],
    now: datetime,
) -> tuple[list[OutboundEmail], list[Invitation]]:
    """What `enrolments.services._notify_enrolled` sends, for many students at once: an
    invitation to set a password, or, for someone who has one, a notice of the new cohort.
    Earlier unused invitations of those invited again are revoked, as `invitation_issue` does."""
    expires_at = now + settings.INVITATION_TTL
    expires_text = moment_text(expires_at)
    invited_by = str(actor) if actor else ""
    # reverse() once: the token is the only part of the link that changes.
    accept_path = reverse("accounts:invitation_accept", args=["TOKEN"])
    accept_base = institution_url(institution, accept_path.replace("TOKEN", "{}"))
    reinvited = [
        enrollment.user.pk
        for enrollment in enrollments
        if enrollment.user.pk in existing_ids and not enrollment.user.has_usable_password()
    ]
    if reinvited:
        Invitation.objects.filter(
            user_id__in=reinvited, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
    role_labels = role_names_of([enrollment.user.pk for enrollment in enrollments])
    emails, invitations = [], []
    for enrollment in enrollments:
        student = enrollment.user
        if student.has_usable_password():
            emails.append(
                OutboundEmail(
                    recipient=student.email,
                    template="enrolled",
                    created_at=now,
                    context={
                        "full_name": student.full_name,
                        "cohort_name": enrollment.cohort.name,
                        "url": institution_url(
                            institution, reverse("enrolments:detail", args=[enrollment.pk])
                        ),
                    },
                )
            )
            continue
        token = secrets.token_urlsafe(32)
        invitations.append(
            Invitation(
                user=student,
                token_hash=token_hash(token),
                invited_by=actor,
                created_at=now,
                expires_at=expires_at,
            )
        )
        emails.append(
            OutboundEmail(
                recipient=student.email,
                template="invitation",
                created_at=now,
                context={
                    "full_name": student.full_name,
                    "invited_by": invited_by,
                    "roles": role_labels.get(student.pk, []),
                    "accept_url": accept_base.format(token),
                    "expires_at": expires_text,
                },
            )
        )
    return emails, invitations
