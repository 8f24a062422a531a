"""The database closes what 0002 left open on issued invoices: a PDF, once stored, stays the
one stored; a void invoice changes no more (beyond getting its PDF, printed void, if it had
none, and its creator or issuer becoming unknown when their account is deleted); only an issued
invoice with nothing paid or credited becomes void, and its reason and time are written with
that move only; what was paid and credited is never negative nor more than the total together.
Nor may either table be truncated. Same functions as 0002, replaced."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION public.finance_invoice_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    voiding boolean;
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
    IF OLD.pdf <> '' AND NEW.pdf IS DISTINCT FROM OLD.pdf THEN
        RAISE EXCEPTION 'the PDF of invoice % cannot be replaced', OLD.number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.status = 'void' AND (
        ROW(
            NEW.status, NEW.amount_paid, NEW.amount_credited, NEW.voided_at, NEW.void_reason,
            NEW.emailed_at
        ) IS DISTINCT FROM ROW(
            OLD.status, OLD.amount_paid, OLD.amount_credited, OLD.voided_at, OLD.void_reason,
            OLD.emailed_at
        )
        OR (NEW.pdf IS DISTINCT FROM OLD.pdf AND OLD.pdf <> '')
        OR (NEW.created_by_id IS DISTINCT FROM OLD.created_by_id AND NEW.created_by_id IS NOT NULL)
        OR (NEW.issued_by_id IS DISTINCT FROM OLD.issued_by_id AND NEW.issued_by_id IS NOT NULL)
    ) THEN
        RAISE EXCEPTION 'void invoice % cannot be changed', OLD.number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    voiding := NEW.status = 'void' AND OLD.status <> 'void';
    IF voiding AND NOT (
        OLD.status = 'issued'
        AND OLD.amount_paid = 0 AND OLD.amount_credited = 0
        AND NEW.amount_paid = 0 AND NEW.amount_credited = 0
    ) THEN
        RAISE EXCEPTION 'invoice % can be voided only while issued with nothing paid or credited',
            OLD.number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT voiding AND ROW(NEW.voided_at, NEW.void_reason)
            IS DISTINCT FROM ROW(OLD.voided_at, OLD.void_reason) THEN
        RAISE EXCEPTION 'the void reason and time of invoice % are set only when it is voided',
            OLD.number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.amount_paid < 0 OR NEW.amount_credited < 0
            OR NEW.amount_paid + NEW.amount_credited > NEW.total THEN
        RAISE EXCEPTION 'invoice % cannot be paid or credited below nothing or beyond its total',
            OLD.number
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION public.finance_invoice_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invoices and their lines cannot be truncated: % refused on %.%',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER finance_invoice_no_truncate
    BEFORE TRUNCATE ON finance_invoice
    FOR EACH STATEMENT EXECUTE FUNCTION public.finance_invoice_refuse_truncate();
CREATE TRIGGER finance_invoice_line_no_truncate
    BEFORE TRUNCATE ON finance_invoiceline
    FOR EACH STATEMENT EXECUTE FUNCTION public.finance_invoice_refuse_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS finance_invoice_no_truncate ON finance_invoice;
DROP TRIGGER IF EXISTS finance_invoice_line_no_truncate ON finance_invoiceline;
"""


class Migration(migrations.Migration):
    dependencies = [("finance", "0004_statement_debits_skipped_and_ignore_reason")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
