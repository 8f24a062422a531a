"""verify_audit_chain over the whole platform: each schema checked once, a break still found."""

import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import get_public_schema_name

from audit.services import audit_record
from tenants.models import Institution

LINE = re.compile(r"^(\S+): audit chain (intact|broken)", re.MULTILINE)


def _every_schema() -> set[str]:
    return {get_public_schema_name(), *Institution.objects.values_list("schema_name", flat=True)}


def _checked(output: str) -> Counter:
    return Counter(schema for schema, _ in LINE.findall(output))


def test_a_run_over_every_institution_checks_each_schema_once(db, capsys):
    assert Institution.objects.institutions().count() >= 2
    call_command("verify_audit_chain")
    checked = _checked(capsys.readouterr().out)
    assert set(checked) == _every_schema()
    assert set(checked.values()) == {1}


def test_a_broken_chain_is_found_in_a_run_over_every_institution(institution, capsys):
    events = [
        audit_record(actor=None, action="test.event", entity_type="test.thing", entity_id=i)
        for i in range(3)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(
            "UPDATE audit_auditevent SET action = 'test.rewritten' WHERE id = %s", [events[1].pk]
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    connection.set_schema_to_public()

    with pytest.raises(CommandError, match=rf"broken in: {institution.schema_name}$"):
        call_command("verify_audit_chain")
    output = capsys.readouterr()
    assert f"{institution.schema_name}: audit chain broken at event {events[1].pk}" in output.err
    checked = _checked(output.out + output.err)
    assert set(checked) == _every_schema()
    assert set(checked.values()) == {1}
