"""The database lets exactly one change through to document verifications: erasing what a
decision holds about an anonymised learner, which replaces its reason by "(erased)" (or leaves an
empty one empty) and drops the document's name from its metadata, and changes nothing else.
Every other UPDATE, and every DELETE and TRUNCATE, is still refused (migration 0002). A new
function rather than a new body for 0002's, so that replaying 0002 in a new schema cannot undo
this one."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION public.document_verification_refuse_change_but_erasing()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (NEW.reason = '(erased)' AND OLD.reason <> '' OR NEW.reason = '' AND OLD.reason = '')
        AND NEW.metadata = OLD.metadata - 'original_name'
        AND to_jsonb(NEW) - ARRAY['reason', 'metadata']
            = to_jsonb(OLD) - ARRAY['reason', 'metadata']
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'document verifications are append-only: % refused on %.%',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER document_verification_append_only ON verification_documentverification;
CREATE TRIGGER document_verification_append_only
    BEFORE UPDATE OR DELETE ON verification_documentverification
    FOR EACH ROW EXECUTE FUNCTION public.document_verification_refuse_change_but_erasing();
"""

BACKWARD = """
DROP TRIGGER document_verification_append_only ON verification_documentverification;
CREATE TRIGGER document_verification_append_only
    BEFORE UPDATE OR DELETE ON verification_documentverification
    FOR EACH ROW EXECUTE FUNCTION public.document_verification_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("verification", "0003_permission_catalogue")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
