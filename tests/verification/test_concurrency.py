"""Two reviewers deciding the same document at the same moment, on two real database
connections with committed data: both wait on the enrolment's row lock, one decides, the other
is told who decided first. No lost update, one DocumentVerification row."""

import secrets
import threading
import time

from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django_tenants.utils import tenant_context

from accounts.models import SystemRole, User
from cohorts.services import cohort_reviewer_set
from enrolments.models import CohortEnrollment, DocumentStatus, StudentDocument
from enrolments.services import enrollment_invite
from tenants.services import institution_provision
from tests.factories import CohortFactory
from verification.models import DocumentVerification
from verification.services import document_review

from .conftest import id_type, upload_document


def _waiting_on_locks() -> int:
    """Connections to this test database blocked on a row lock."""
    with connection.cursor() as cursor:
        # Statistics are a snapshot per transaction: take a fresh one each time.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_two_reviewers_at_once_one_decides_the_other_is_told(committed_db):
    unique = secrets.token_hex(4)
    institution = institution_provision(
        name="Concurrent Review College",
        code=f"review-{unique}",
        admin_email=f"head@review-{unique}.example",
    )
    with tenant_context(institution):
        admin = User.objects.create_user(
            email=f"admin-{unique}@example.org", full_name="Ada Admin", roles=[SystemRole.ADMIN]
        )
        verifier = User.objects.create_user(
            email=f"verifier-{unique}@example.org",
            full_name="Vusi Verifier",
            roles=[SystemRole.VERIFIER],
        )
        cohort = CohortFactory()
        cohort_reviewer_set(cohort=cohort, actor=admin, reviewer=verifier, allowed=True)
        enrollment = enrollment_invite(
            cohort=cohort, actor=admin, email=f"student-{unique}@example.org", full_name="S"
        )
        document = upload_document(enrollment, id_type())

    outcomes: dict[str, object] = {}

    def review(reviewer: User) -> None:
        try:
            connection.set_tenant(institution)
            seen = StudentDocument.objects.get(pk=document.pk)
            outcomes[reviewer.full_name] = document_review(
                document=seen, reviewer=reviewer, approve=True
            )
        except ValidationError as refusal:
            outcomes[reviewer.full_name] = refusal
        finally:
            connections.close_all()

    threads = [threading.Thread(target=review, args=(who,)) for who in (admin, verifier)]
    with tenant_context(institution):
        # Hold the enrolment's lock until both reviewers are waiting for it.
        with transaction.atomic():
            CohortEnrollment.objects.select_for_update().get(pk=enrollment.pk)
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 20
            while _waiting_on_locks() < 2:
                assert time.monotonic() < deadline, "the reviewers never waited on the lock"
                time.sleep(0.05)
        for thread in threads:
            thread.join(timeout=20)
        assert not any(thread.is_alive() for thread in threads)

        decided = [v for v in outcomes.values() if isinstance(v, DocumentVerification)]
        refused = [v for v in outcomes.values() if isinstance(v, ValidationError)]
        assert len(decided) == 1, outcomes
        assert len(refused) == 1, outcomes
        winner = decided[0].admin.full_name
        assert refused[0].code == "already_decided"
        assert (
            refused[0].messages[0].startswith(f"This document was already verified by {winner} on ")
        )
        assert DocumentVerification.objects.filter(document_id=document.pk).count() == 1
        assert StudentDocument.objects.get(pk=document.pk).status == DocumentStatus.VERIFIED
