"""audit.bulk: COPY-based inserts and many audit events on one chain."""

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from audit.bulk import AuditEntry, audit_record_many, rows_copy
from audit.models import AuditEvent
from audit.selectors import audit_chain_first_break
from audit.services import audit_record
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.models import Learner
from notifications.models import OutboundEmail
from tests.imports.support import unique_email

pytestmark = pytest.mark.django_db


def test_rows_copy_writes_every_field_as_save_would_and_sets_the_keys_in_order(cohort):
    users = [
        User(
            email=unique_email(),
            full_name=f"Person {n}",
        )
        for n in range(3)
    ]

    rows_copy(User, users)
    learners = [
        Learner(user=user, first_name="Person", last_name=str(n), gender="female")
        for n, user in enumerate(users)
    ]
    rows_copy(Learner, learners)
    enrollments = [
        CohortEnrollment(cohort=cohort, user=user, learner=learner)
        for user, learner in zip(users, learners, strict=True)
    ]
    rows_copy(CohortEnrollment, enrollments)

    assert [user.pk for user in users] == sorted(user.pk for user in users)
    for n, user in enumerate(users):
        stored = User.objects.get(pk=user.pk)
        assert (stored.email, stored.full_name) == (user.email, f"Person {n}")
        assert stored.is_active
        assert stored.date_joined is not None
        enrollment = CohortEnrollment.objects.get(pk=enrollments[n].pk)
        assert enrollment.user_id == user.pk
        assert (enrollment.learner.last_name, enrollment.learner.gender) == (str(n), "female")
        assert enrollment.state == EnrollmentState.WAITING
        assert enrollment.invited_at is not None  # auto_now_add
        assert enrollment.updated_at is not None  # auto_now
        assert enrollment.withdrawn_at is None
    assert not users[0]._state.adding


def test_rows_copy_raises_djangos_integrity_error_and_writes_nothing(cohort):
    email = unique_email()
    User.objects.create_user(email)

    with pytest.raises(IntegrityError), transaction.atomic():
        rows_copy(User, [User(email=unique_email()), User(email=email)])

    assert User.objects.filter(email=email).count() == 1


def test_rows_copy_keeps_json_strings_as_json(institution):
    email = OutboundEmail(recipient=unique_email(), template="x", context={"text": "a\tb\nc\\d"})

    rows_copy(OutboundEmail, [email])

    assert OutboundEmail.objects.get(pk=email.pk).context == {"text": "a\tb\nc\\d"}


def test_many_audit_events_join_the_chain_between_single_ones(admin):
    audit_record(action="before", entity_type="test")
    audit_record_many(
        actor=admin,
        entries=[
            AuditEntry(action="bulk", entity_type="test", entity_id=n, new_values={"n": n})
            for n in range(5)
        ]
        + [AuditEntry(action="bulk", entity_type="test", new_values={"when": connection})],
    )
    audit_record(action="after", entity_type="test")

    actions = list(AuditEvent.objects.order_by("-id").values_list("action", flat=True)[:8])
    assert actions == ["after", *["bulk"] * 6, "before"]
    assert audit_chain_first_break() is None
    bulk = AuditEvent.objects.filter(action="bulk").order_by("id")
    assert [event.entity_id for event in bulk[:5]] == ["0", "1", "2", "3", "4"]
    assert {event.actor_id for event in bulk} == {admin.pk}
    assert isinstance(bulk.last().new_values["when"], str)
