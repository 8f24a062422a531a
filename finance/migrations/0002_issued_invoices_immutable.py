"""The database itself refuses to change an issued invoice or credit note (beyond its status,
what was paid or credited against it, its PDF and its e-mailing), to take it back to draft, to
delete it, or to add, change or remove its lines. The functions live in the public schema, as
the audit trail's do, so that every cloned institution schema's triggers call the same ones;
the tables they read are found on the institution's search path."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION public.finance_invoice_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'issued invoice % cannot be deleted', OLD.number
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.status = 'draft'
        OR ROW(
            NEW.kind, NEW.number, NEW.financial_year, NEW.sequence, NEW.sponsor_id,
            NEW.learner_id, NEW.partner_id, NEW.recipient_name, NEW.recipient_email,
            NEW.recipient_address, NEW.recipient_tax_number, NEW.credited_invoice_id,
            NEW.currency, NEW.vat_rate, NEW.issued_on, NEW.due_on, NEW.subtotal,
            NEW.vat_amount, NEW.total, NEW.reference, NEW.notes, NEW.public_id,
            NEW.created_at, NEW.issued_at
        ) IS DISTINCT FROM ROW(
            OLD.kind, OLD.number, OLD.financial_year, OLD.sequence, OLD.sponsor_id,
            OLD.learner_id, OLD.partner_id, OLD.recipient_name, OLD.recipient_email,
            OLD.recipient_address, OLD.recipient_tax_number, OLD.credited_invoice_id,
            OLD.currency, OLD.vat_rate, OLD.issued_on, OLD.due_on, OLD.subtotal,
            OLD.vat_amount, OLD.total, OLD.reference, OLD.notes, OLD.public_id,
            OLD.created_at, OLD.issued_at
        )
    ) THEN
        RAISE EXCEPTION 'issued invoice % cannot be changed: credit it instead', OLD.number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION public.finance_invoice_line_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent_status text;
BEGIN
    SELECT status INTO parent_status FROM finance_invoice
        WHERE id IN (
            CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.invoice_id END,
            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.invoice_id END
        ) AND status <> 'draft'
        LIMIT 1;
    IF parent_status IS NOT NULL THEN
        RAISE EXCEPTION 'the lines of an issued invoice cannot be changed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER finance_invoice_issued_immutable
    BEFORE UPDATE OR DELETE ON finance_invoice
    FOR EACH ROW EXECUTE FUNCTION public.finance_invoice_refuse_change();
CREATE TRIGGER finance_invoice_line_issued_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON finance_invoiceline
    FOR EACH ROW EXECUTE FUNCTION public.finance_invoice_line_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS finance_invoice_issued_immutable ON finance_invoice;
DROP TRIGGER IF EXISTS finance_invoice_line_issued_immutable ON finance_invoiceline;
"""


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
