"""audit_record outside any transaction: no per-test rollback here (committed_db), so that the
connection is really in autocommit, as in a view or a task."""

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from audit.models import AuditEvent
from audit.services import audit_record
from tenants.models import Institution


def test_audit_record_refuses_to_run_outside_a_transaction(committed_db):
    connection.set_tenant(Institution.objects.get(code="alpha"))
    before = AuditEvent.objects.count()
    assert not connection.in_atomic_block

    with pytest.raises(TransactionManagementError, match="inside the transaction"):
        audit_record(action="test.outside", entity_type="test")

    assert AuditEvent.objects.count() == before
    with transaction.atomic():
        assert audit_record(action="test.inside", entity_type="test").pk
        transaction.set_rollback(True)  # nothing of this test stays in the shared database
