"""Sponsor notices: the cohort's sponsor hears when it starts and when it is complete."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from cohorts.models import CohortState
from cohorts.services import (
    cohort_activate,
    cohort_cancel,
    cohort_complete,
    cohort_record_admin_signature,
)
from enrolments.agreements import enrollment_agreement_sign
from enrolments.services import enrollment_invite, enrollment_withdraw
from notifications.models import OutboundEmail
from notifications.services import email_render
from sponsors.services import cohort_sponsor_set
from tests.enrolments.conftest import upload_document
from tests.enrolments.test_services import _details
from tests.factories import CohortFactory
from verification.services import document_review

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

NOTICES = ("sponsor_cohort_activated", "sponsor_cohort_completed")


@pytest.fixture
def cohort(admin, sponsor):
    """A signed draft cohort with a sponsor, its name as an admin might type it."""
    cohort = CohortFactory(name="Mining & Skills' Learnership")
    cohort = cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)
    return cohort_record_admin_signature(cohort=cohort, actor=admin, signature=str(admin))


def _enrol(cohort, admin, count: int) -> list:
    return [
        enrollment_invite(
            cohort=cohort,
            actor=admin,
            email=f"student{n}-{cohort.pk}@example.org",
            full_name=f"Student {n}",
        )
        for n in range(count)
    ]


def _complete_and_verify(enrollment, admin) -> None:
    _details(enrollment)
    for document_type in enrollment.cohort.required_document_types.all():
        document_review(
            document=upload_document(enrollment, document_type), reviewer=admin, approve=True
        )
    enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="Student")


def _notices(cohort) -> list[OutboundEmail]:
    return list(
        OutboundEmail.objects.filter(
            template__in=NOTICES, context__cohort_name=cohort.name
        ).order_by("pk")
    )


def test_activation_tells_the_sponsor_the_programme_dates_and_students(admin, cohort):
    first, second, third = _enrol(cohort, admin, 3)
    enrollment_withdraw(enrollment=third, actor=admin, reason="Moved away")

    cohort_activate(cohort=cohort, actor=admin)

    [email] = _notices(cohort)
    assert email.template == "sponsor_cohort_activated"
    assert email.recipient == "sipho@ubuntu.example"
    assert email.context["enrolled"] == 2
    message = email_render(email)
    assert message.subject == "Mining & Skills' Learnership has started"
    assert "Alpha College has started Mining & Skills' Learnership" in message.body
    assert "Programme: Learnership" in message.body
    assert "Dates: 1 February 2027 to 30 November 2027" in message.body
    assert "Students enrolled: 2" in message.body
    html = message.alternatives[0][0]
    assert "Mining &amp; Skills&#x27; Learnership" in html
    event = AuditEvent.objects.get(
        action="sponsor.notified_cohort_activated", entity_id=str(cohort.pk)
    )
    assert event.actor == admin
    # The notice address is a person's: the trail names the sponsor, not the address.
    assert event.new_values == {
        "sponsor": cohort.sponsor_id,
        "template": "sponsor_cohort_activated",
    }


def test_notices_go_to_the_cohorts_sponsor_address(admin, cohort):
    type(cohort).objects.filter(pk=cohort.pk).update(sponsor_email="hr@ubuntu.example")
    cohort.refresh_from_db()
    cohort_activate(cohort=cohort, actor=admin)
    [email] = _notices(cohort)
    assert email.recipient == "hr@ubuntu.example"


def test_completion_sends_the_sponsor_the_completion_summary(admin, cohort):
    done, unfinished, withdrawn = _enrol(cohort, admin, 3)
    cohort = cohort_activate(cohort=cohort, actor=admin)
    _complete_and_verify(done, admin)
    enrollment_withdraw(enrollment=withdrawn, actor=admin, reason="Found work")

    cohort = cohort_complete(cohort=cohort, actor=admin, force_reason="Programme ended early")

    assert cohort.state == CohortState.COMPLETED
    activated, completed = _notices(cohort)
    assert activated.template == "sponsor_cohort_activated"
    assert completed.template == "sponsor_cohort_completed"
    assert completed.recipient == "sipho@ubuntu.example"
    counts = ("enrolled", "complete", "withdrawn", "verified")
    assert [completed.context[name] for name in counts] == [2, 1, 1, 1]
    message = email_render(completed)
    assert message.subject == "Mining & Skills' Learnership is complete"
    for line in ("Students enrolled: 2", "Completed: 1", "Withdrawn: 1", "Documents verified: 1"):
        assert line in message.body
    assert AuditEvent.objects.filter(
        action="sponsor.notified_cohort_completed", entity_id=str(cohort.pk)
    ).exists()


def test_a_cohort_without_a_sponsor_sends_no_notice(admin):
    cohort = cohort_record_admin_signature(
        cohort=CohortFactory(), actor=admin, signature=str(admin)
    )
    _enrol(cohort, admin, 1)
    cohort = cohort_activate(cohort=cohort, actor=admin)
    cohort_complete(cohort=cohort, actor=admin, force_reason="Programme ended early")
    assert _notices(cohort) == []
    assert not AuditEvent.objects.filter(
        action__startswith="sponsor.notified_cohort", entity_id=str(cohort.pk)
    ).exists()


def test_a_cancelled_cohort_sends_no_notice(admin, cohort):
    cohort_cancel(cohort=cohort, actor=admin, reason="No funding")
    assert _notices(cohort) == []


def test_cancelling_a_running_cohort_sends_no_completion_notice(admin, cohort):
    cohort = cohort_activate(cohort=cohort, actor=admin)
    cohort_cancel(cohort=cohort, actor=admin, reason="No funding")
    assert [email.template for email in _notices(cohort)] == ["sponsor_cohort_activated"]


def test_a_refused_activation_sends_no_notice(admin, sponsor):
    cohort = cohort_sponsor_set(cohort=CohortFactory(), sponsor=sponsor, actor=admin)
    with pytest.raises(ValidationError, match="Cannot activate"):
        cohort_activate(cohort=cohort, actor=admin)
    assert _notices(cohort) == []
