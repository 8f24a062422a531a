"""Institutions asked for from the operator's page: the request row as the task's outbox, the
task under a lease, the sweep, retrying and dismissing."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from audit.models import AuditEvent
from tenants.models import Institution, ProvisioningRequest, ProvisioningRequestStatus
from tenants.provisioning import (
    GIVEN_UP,
    MAX_PROVISIONING_ATTEMPTS,
    PROVISIONING_LEASE,
    REDISPATCH_AFTER,
    provisioning_request_create,
    provisioning_request_dismiss,
    provisioning_request_retry,
    provisioning_requests_sweep,
)
from tenants.services import institution_provision
from tenants.tasks import provisioning_request_run_task, provisioning_requests_sweep_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Status = ProvisioningRequestStatus


@pytest.fixture
def operator(db):
    connection.set_schema_to_public()
    return UserFactory(email="ops@cohortly.example", roles=[], is_staff=True)


@pytest.fixture
def request_for(operator, django_capture_on_commit_callbacks):
    """A saved request whose task was not handed to the broker (as when it is down)."""

    def make(code: str = "zeta", **fields) -> ProvisioningRequest:
        with django_capture_on_commit_callbacks(execute=False):
            provisioning_request = provisioning_request_create(
                name=fields.pop("name", "Zeta School"),
                code=code,
                admin_email=fields.pop("admin_email", f"head@{code}.example"),
                admin_name="Zed Head",
                actor=operator,
            )
        if fields:
            ProvisioningRequest.objects.filter(pk=provisioning_request.pk).update(**fields)
            provisioning_request.refresh_from_db()
        return provisioning_request

    return make


def run(provisioning_request: ProvisioningRequest) -> str:
    """One delivery of the request's task, in this process."""
    return provisioning_request_run_task.apply(args=[provisioning_request.pk]).get()


def test_a_request_is_saved_audited_and_queued_after_its_commit(
    operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        provisioning_request = provisioning_request_create(
            name=" Zeta School ", code="Zeta", admin_email="head@zeta.example", actor=operator
        )
        assert provisioning_request.dispatched_at is None

    assert len(callbacks) == 1
    provisioning_request.refresh_from_db()
    assert provisioning_request.status == Status.QUEUED
    assert (provisioning_request.name, provisioning_request.code) == ("Zeta School", "zeta")
    assert provisioning_request.requested_by == operator
    assert provisioning_request.dispatched_at is not None
    event = AuditEvent.objects.get(action="provisioning_request.created")
    assert event.actor == operator
    assert event.new_values["code"] == "zeta"
    assert event.new_values["admin_email"] == "(changed)"
    assert "head@zeta" not in json.dumps(event.new_values)


def test_a_code_already_requested_is_refused(request_for, operator):
    request_for("zeta")
    with pytest.raises(ValidationError, match="already being created"):
        provisioning_request_create(
            name="Other", code="zeta", admin_email="x@example.org", actor=operator
        )
    assert ProvisioningRequest.objects.filter(code="zeta").count() == 1


def test_only_operators_ask_for_institutions(db):
    connection.set_schema_to_public()
    someone = UserFactory(roles=[], is_staff=False)
    with pytest.raises(PermissionDenied):
        provisioning_request_create(
            name="Zeta", code="zeta", admin_email="x@example.org", actor=someone
        )
    assert not ProvisioningRequest.objects.exists()


def test_the_task_creates_the_institution_and_forgets_the_address(request_for, operator):
    provisioning_request = request_for("zeta")

    assert run(provisioning_request) == Status.DONE

    provisioning_request.refresh_from_db()
    institution = Institution.objects.get(code="zeta")
    assert provisioning_request.institution == institution
    assert provisioning_request.attempts == 1
    assert provisioning_request.lease_expires_at is None
    assert (provisioning_request.admin_email, provisioning_request.admin_name) == ("", "")
    assert institution.contact_email == "head@zeta.example"
    provisioned = AuditEvent.objects.get(action="institution.provisioned", entity_id=institution.pk)
    assert provisioned.actor == operator
    with tenant_context(institution):
        assert User.objects.get().full_name == "Zed Head"


def test_a_duplicate_delivery_provisions_once(request_for):
    provisioning_request = request_for("zeta")

    assert run(provisioning_request) == Status.DONE
    assert run(provisioning_request) == Status.DONE

    provisioning_request.refresh_from_db()
    assert provisioning_request.attempts == 1
    assert Institution.objects.filter(code="zeta").count() == 1


def test_a_delivery_while_a_worker_holds_the_request_does_nothing(request_for):
    held_until = timezone.now() + PROVISIONING_LEASE
    provisioning_request = request_for(
        "zeta", status=Status.RUNNING, attempts=1, lease_expires_at=held_until
    )

    assert run(provisioning_request) == Status.RUNNING

    provisioning_request.refresh_from_db()
    assert (provisioning_request.attempts, provisioning_request.lease_expires_at) == (1, held_until)
    assert not Institution.objects.filter(code="zeta").exists()


def test_a_redelivery_after_its_worker_died_past_provisioning_takes_its_institution(request_for):
    provisioning_request = request_for(
        "zeta", status=Status.RUNNING, attempts=1, lease_expires_at=timezone.now()
    )
    # The first worker provisioned, then died before recording it.
    made = institution_provision(
        name="Zeta School", code="zeta", admin_email="head@zeta.example", admin_name="Zed Head"
    )

    assert run(provisioning_request) == Status.DONE

    provisioning_request.refresh_from_db()
    assert provisioning_request.institution == made
    assert provisioning_request.attempts == 2
    assert provisioning_request.error == ""
    assert Institution.objects.filter(code="zeta").count() == 1


def test_a_code_taken_meanwhile_fails_the_request_with_a_message(request_for):
    provisioning_request = request_for("zeta")
    # Someone else's institution got the code first (e.g. from the command line).
    institution_provision(name="Zeta Other", code="zeta", admin_email="other@zeta.example")

    assert run(provisioning_request) == Status.FAILED

    provisioning_request.refresh_from_db()
    assert provisioning_request.error == (
        "The institution was not created: “zeta” is already taken by another institution."
    )
    assert provisioning_request.lease_expires_at is None
    assert provisioning_request.admin_email == "head@zeta.example"  # kept to try again
    assert provisioning_request.institution is None
    event = AuditEvent.objects.get(action="provisioning_request.failed")
    assert event.entity_id == str(provisioning_request.pk)


def test_an_invalid_address_fails_the_request_and_creates_nothing(request_for):
    provisioning_request = request_for("zeta", admin_email="not an address")

    assert run(provisioning_request) == Status.FAILED

    provisioning_request.refresh_from_db()
    assert "Enter a valid email address" in provisioning_request.error
    assert not Institution.objects.filter(code="zeta").exists()


def test_the_sweep_queues_a_request_the_broker_never_took(
    request_for, django_capture_on_commit_callbacks
):
    provisioning_request = request_for("zeta")
    assert provisioning_request.dispatched_at is None

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert provisioning_requests_sweep() == 1

    assert len(callbacks) == 1
    provisioning_request.refresh_from_db()
    assert provisioning_request.status == Status.QUEUED
    assert provisioning_request.dispatched_at is not None
    assert provisioning_request.attempts == 0


def test_the_sweep_queues_a_lost_task_again_only_once_it_is_overdue(
    request_for, django_capture_on_commit_callbacks
):
    recently = timezone.now() - REDISPATCH_AFTER / 2
    provisioning_request = request_for("zeta", dispatched_at=recently)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert provisioning_requests_sweep() == 0
    assert callbacks == []

    ProvisioningRequest.objects.filter(pk=provisioning_request.pk).update(
        dispatched_at=timezone.now() - REDISPATCH_AFTER
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert provisioning_requests_sweep() == 1
    provisioning_request.refresh_from_db()
    assert provisioning_request.dispatched_at > recently


def test_the_sweep_takes_back_a_dead_workers_request_once_its_lease_ran_out(
    request_for, django_capture_on_commit_callbacks
):
    held_until = timezone.now() + PROVISIONING_LEASE
    provisioning_request = request_for(
        "zeta", status=Status.RUNNING, attempts=1, lease_expires_at=held_until
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert provisioning_requests_sweep() == 0
    provisioning_request.refresh_from_db()
    assert provisioning_request.lease_expires_at == held_until

    ProvisioningRequest.objects.filter(pk=provisioning_request.pk).update(
        lease_expires_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert provisioning_requests_sweep() == 1
    assert len(callbacks) == 1
    provisioning_request.refresh_from_db()
    assert provisioning_request.status == Status.QUEUED
    assert provisioning_request.lease_expires_at is None
    assert provisioning_request.dispatched_at is not None
    assert provisioning_request.attempts == 1

    assert run(provisioning_request) == Status.DONE
    provisioning_request.refresh_from_db()
    assert provisioning_request.attempts == 2


def test_the_sweep_fails_a_request_after_its_attempts_with_a_message(
    request_for, django_capture_on_commit_callbacks
):
    provisioning_request = request_for(
        "zeta",
        status=Status.RUNNING,
        attempts=MAX_PROVISIONING_ATTEMPTS,
        lease_expires_at=timezone.now(),
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert provisioning_requests_sweep_task.apply().get() == 1

    assert callbacks == []  # not queued again
    provisioning_request.refresh_from_db()
    assert provisioning_request.status == Status.FAILED
    assert provisioning_request.error == GIVEN_UP.format(attempts=MAX_PROVISIONING_ATTEMPTS)
    assert "interrupted 3 times" in provisioning_request.error
    assert AuditEvent.objects.filter(action="provisioning_request.failed").count() == 1
    # No worker takes it any more, and a later sweep leaves it alone.
    assert run(provisioning_request) == Status.FAILED
    assert provisioning_requests_sweep() == 0


def test_the_sweep_records_an_institution_a_dead_worker_did_make(request_for):
    provisioning_request = request_for(
        "zeta",
        status=Status.RUNNING,
        attempts=MAX_PROVISIONING_ATTEMPTS,
        lease_expires_at=timezone.now(),
    )
    made = institution_provision(
        name="Zeta School", code="zeta", admin_email="head@zeta.example", admin_name="Zed Head"
    )

    assert provisioning_requests_sweep() == 1

    provisioning_request.refresh_from_db()
    assert provisioning_request.status == Status.DONE
    assert provisioning_request.institution == made


def test_a_failed_request_is_tried_again_with_fresh_attempts(
    request_for, operator, django_capture_on_commit_callbacks
):
    provisioning_request = request_for(
        "zeta", status=Status.FAILED, attempts=MAX_PROVISIONING_ATTEMPTS, error="It broke."
    )

    with django_capture_on_commit_callbacks(execute=True):
        provisioning_request_retry(provisioning_request=provisioning_request, actor=operator)

    provisioning_request.refresh_from_db()
    assert provisioning_request.status == Status.QUEUED
    assert (provisioning_request.attempts, provisioning_request.error) == (0, "")
    assert provisioning_request.dispatched_at is not None
    assert AuditEvent.objects.get(action="provisioning_request.retried").actor == operator
    assert run(provisioning_request) == Status.DONE


def test_trying_again_is_refused_when_the_code_was_taken_or_requested_meanwhile(
    request_for, operator
):
    failed = request_for("zeta", status=Status.FAILED, error="It broke.")
    request_for("zeta", name="Zeta Again")
    with pytest.raises(ValidationError, match="already being created"):
        provisioning_request_retry(provisioning_request=failed, actor=operator)

    taken = request_for("omega", status=Status.FAILED, error="It broke.")
    institution_provision(name="Omega", code="omega", admin_email="o@omega.example")
    with pytest.raises(ValidationError, match="already taken"):
        provisioning_request_retry(provisioning_request=taken, actor=operator)

    running = request_for("sigma")
    with pytest.raises(ValidationError, match="Only a request that failed"):
        provisioning_request_retry(provisioning_request=running, actor=operator)
    failed.refresh_from_db()
    taken.refresh_from_db()
    assert failed.status == taken.status == Status.FAILED


def test_dismissing_a_failed_request_forgets_the_address(request_for, operator):
    failed = request_for("zeta", status=Status.FAILED, error="It broke.")

    provisioning_request_dismiss(provisioning_request=failed, actor=operator)

    failed.refresh_from_db()
    assert failed.status == Status.DISMISSED
    assert (failed.admin_email, failed.admin_name) == ("", "")
    assert AuditEvent.objects.get(action="provisioning_request.dismissed").actor == operator
    # The code may be asked for again.
    request_for("zeta")

    with pytest.raises(ValidationError, match="Only a request that failed"):
        provisioning_request_dismiss(provisioning_request=request_for("sigma"), actor=operator)


def test_the_sweep_is_not_fooled_by_an_old_institution_of_the_same_name(request_for):
    # An institution made before the request was is never taken for its work.
    institution_provision(name="Zeta School", code="zeta", admin_email="head@zeta.example")
    provisioning_request = request_for(
        "zeta-two", status=Status.RUNNING, attempts=1, lease_expires_at=timezone.now()
    )
    ProvisioningRequest.objects.filter(pk=provisioning_request.pk).update(
        code="zeta", created_at=timezone.now() + timedelta(seconds=1)
    )

    provisioning_requests_sweep()

    provisioning_request.refresh_from_db()
    assert provisioning_request.status == Status.QUEUED
    assert run(provisioning_request) == Status.FAILED
