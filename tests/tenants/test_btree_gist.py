"""btree_gist lives in the public schema once the platform is migrated, whichever schema an
earlier migration created it in: every institution's schema finds it through its search path."""

import importlib

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

FORWARD = importlib.import_module("tenants.migrations.0006_btree_gist_in_public").FORWARD


def extension_schema() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'btree_gist'"
        )
        (schema,) = cursor.fetchone()
    return str(schema)


def test_btree_gist_is_in_public_after_migrate_platform(institution):
    assert extension_schema() == "public"


def test_the_migration_moves_btree_gist_from_the_schema_it_was_made_in(scratch_schema):
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER EXTENSION btree_gist SET SCHEMA "{scratch_schema}"')
        assert extension_schema() == scratch_schema
        cursor.execute(FORWARD)
    assert extension_schema() == "public"
