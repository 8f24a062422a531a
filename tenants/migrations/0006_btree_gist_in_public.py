"""btree_gist, which the delivery app's exclusion constraints use (a trainer booked twice, an
academic year overlapping another), lives in the public schema: every institution's schema
finds it there through its search path. It runs with the shared apps, before any tenant
migration; where an earlier delivery migration created it in the schema it first ran in
(the template's), it moves to public (the constraints that use it follow it)."""

from django.db import migrations

FORWARD = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist') THEN
        CREATE EXTENSION btree_gist WITH SCHEMA public;
    ELSIF NOT EXISTS (
        SELECT 1 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'btree_gist' AND n.nspname = 'public'
    ) THEN
        ALTER EXTENSION btree_gist SET SCHEMA public;
    END IF;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0005_institution_time_zone"),
    ]

    # Not undone: the institutions' constraints depend on the extension.
    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
