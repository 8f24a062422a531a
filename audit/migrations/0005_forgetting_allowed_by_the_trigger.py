"""The database lets exactly one change through to audit events: forgetting a person, which
blanks the e-mail, IP address and user agent of an event and changes nothing else. Every other
UPDATE, and every DELETE and TRUNCATE, is still refused (migration 0002). A new function rather
than a new body for 0002's, so that replaying 0002 in a new schema cannot undo this one."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION public.audit_event_refuse_change_but_forgetting() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.actor_email = '' AND NEW.ip_address IS NULL AND NEW.user_agent = ''
        AND to_jsonb(NEW) - ARRAY['actor_email', 'ip_address', 'user_agent']
            = to_jsonb(OLD) - ARRAY['actor_email', 'ip_address', 'user_agent']
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused on %.%',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER audit_event_append_only ON audit_auditevent;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION public.audit_event_refuse_change_but_forgetting();
"""

BACKWARD = """
DROP TRIGGER audit_event_append_only ON audit_auditevent;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION public.audit_event_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_actor_keys_and_event_digests")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
