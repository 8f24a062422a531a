"""The database itself refuses to change or remove document verifications, as it does for audit
events (audit migration 0002, which explains why this is a plain trigger). The function lives in
the public schema, so every institution schema's trigger calls the same one."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION public.document_verification_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'document verifications are append-only: % refused on %.%',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER document_verification_append_only
    BEFORE UPDATE OR DELETE ON verification_documentverification
    FOR EACH ROW EXECUTE FUNCTION public.document_verification_refuse_change();
CREATE TRIGGER document_verification_no_truncate
    BEFORE TRUNCATE ON verification_documentverification
    FOR EACH STATEMENT EXECUTE FUNCTION public.document_verification_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS document_verification_append_only ON verification_documentverification;
DROP TRIGGER IF EXISTS document_verification_no_truncate ON verification_documentverification;
"""


class Migration(migrations.Migration):
    dependencies = [("verification", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
