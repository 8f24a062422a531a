"""Bank statement imports: a CSV exported from the bank's site (Date, Description, Reference,
Amount, under the headings banks commonly use), read whole and refused whole when a row is
wrong, never taken twice (its SHA-256). Each credit whose reference or description holds the
number of an issued invoice that still owes money is recorded as that invoice's payment (by
EFT, dated as posted) and set against it, up to what it owes; the rest stays on the payment as
credit. Other credits wait for a person, who matches them to an invoice by hand or sets them
aside with a reason. Debits are money going out: they are counted, not kept."""

import csv
import datetime
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from academics.currencies import cents
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.imports.reading import SpreadsheetError, spreadsheet_kind
from finance.access import MANAGE_FINANCE
from finance.models import (
    BankStatementImport,
    BankStatementLine,
    DocumentKind,
    Invoice,
    PaymentDirection,
    PaymentPurpose,
    PaymentStatus,
    StatementLineStatus,
)
from finance.selectors.settings import finance_settings_current
from finance.services.allocations import OPEN_STATUSES, allocations_write_locked, invoices_lock
from finance.services.payments import PaymentInput, payment_record
from finance.services.refusals import Refused, refusals_audited
from partners.models import PaymentMethod

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_LINES = 5000
# Errors listed before the rest are summed up: a wrong file has the same problem on each row.
MAX_ERRORS_SHOWN = 20
INVOICE_NUMBER = re.compile(r"\bINV-\d{4}-\d{5}\b", re.IGNORECASE)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y")
COLUMNS = ("date", "description", "reference", "amount")
# Headings banks and people write, after lower-casing and squeezing spaces.
COLUMN_ALIASES = {
    "date": "date",
    "transaction date": "date",
    "posting date": "date",
    "posted": "date",
    "posted on": "date",
    "value date": "date",
    "datum": "date",
    "description": "description",
    "details": "description",
    "narrative": "description",
    "transaction description": "description",
    "transaction details": "description",
    "memo": "description",
    "reference": "reference",
    "ref": "reference",
    "ref.": "reference",
    "payment reference": "reference",
    "their reference": "reference",
    "beneficiary reference": "reference",
    "amount": "amount",
    "amount (zar)": "amount",
    "amount zar": "amount",
    "value": "amount",
    "transaction amount": "amount",
}
FORMAT_HINT = (
    "Export the statement from your bank as CSV with the columns Date, Description, Reference "
    "and Amount."
)


@dataclass(frozen=True)
class StatementRow:
    row_number: int
    posted_on: datetime.date
    description: str
    reference: str
    amount: Decimal


@dataclass
class ParsedStatement:
    credits: list[StatementRow] = field(default_factory=list)
    debits: int = 0


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError('The file\'s text encoding is not recognised: save it as "CSV UTF-8".')


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _column(heading: str) -> str:
    return COLUMN_ALIASES.get(" ".join(heading.casefold().replace("_", " ").split()), "")


def statement_date(text: str) -> datetime.date | None:
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text.strip(), date_format).date()  # noqa: DTZ007
        except ValueError:
            continue
    return None


def statement_amount(text: str) -> Decimal | None:
    """An amount as banks write it: "1 234,56", "1,234.56", "-500.00", "R4500"; None if it is
    not one. The last comma or dot followed by one or two digits is the decimal mark."""
    squeezed = re.sub(r"[\s\u00a0']", "", text)
    cleaned = re.sub(r"^(-?)(?:ZAR|R)", r"\1", squeezed, flags=re.IGNORECASE)
    negative = cleaned.startswith("-") or (cleaned.startswith("(") and cleaned.endswith(")"))
    cleaned = cleaned.strip("-()+")
    if not re.fullmatch(r"[\d.,]+", cleaned or "x"):
        return None
    decimal_mark = re.search(r"[.,](\d{1,2})$", cleaned)
    if decimal_mark:
        whole = re.sub(r"[.,]", "", cleaned[: decimal_mark.start()])
        number = f"{whole}.{decimal_mark.group(1)}"
    else:
        number = re.sub(r"[.,]", "", cleaned)
    try:
        amount = Decimal(number)
    except InvalidOperation:
        return None
    return -amount if negative else amount


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in cells]
    except csv.Error as error:
        raise ValidationError(f"The CSV file cannot be read ({error}). Check its quotes.") from None


def statement_parse(content: bytes) -> ParsedStatement:
    """The statement's credit lines and the number of debits, or a ValidationError naming each
    wrong row and why (nothing is kept of a file with errors)."""
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError(
            f"The file is too large: a statement of at most {MAX_FILE_BYTES // 1024 // 1024} MB "
            "is taken. Export a shorter period."
        )
    try:
        kind = spreadsheet_kind(content[:8192])
    except SpreadsheetError as error:
        raise ValidationError(f"This is not a CSV file. {FORMAT_HINT}") from error
    if kind != "csv":
        raise ValidationError(f"This is an Excel file, not a CSV file. {FORMAT_HINT}")
    rows = _rows(_decode(content))
    header = next(((number, cells) for number, cells in rows if any(cells)), None)
    if header is None:
        raise ValidationError(f"The file is empty. {FORMAT_HINT}")
    columns = [_column(heading) for heading in header[1]]
    missing = [name for name in ("date", "amount") if name not in columns]
    if missing or not {"description", "reference"} & set(columns):
        needed = ", ".join(missing) if missing else "description or reference"
        raise ValidationError(
            f"The first row does not name the columns the statement needs (missing: {needed}). "
            + FORMAT_HINT
        )
    parsed = ParsedStatement()
    errors: list[str] = []
    for number, cells in rows:
        if not any(cells):
            continue
        if len(parsed.credits) + parsed.debits >= MAX_LINES:
            raise ValidationError(
                f"The statement has more than {MAX_LINES:,} lines: export a shorter period."
            )
        values = {name: "" for name in COLUMNS}
        for index, name in enumerate(columns):
            if name and index < len(cells) and not values[name]:
                values[name] = cells[index]
        posted_on = statement_date(values["date"])
        amount = statement_amount(values["amount"])
        problems = []
        if posted_on is None:
            problems.append(
                f"the date “{values['date'][:20]}” is not a date (write it as YYYY-MM-DD or "
                "DD/MM/YYYY)"
            )
        if amount is None:
            problems.append(f"the amount “{values['amount'][:20]}” is not an amount")
        elif amount == 0 or amount != cents(amount):
            problems.append("the amount must be above or below zero, in whole cents")
        if problems:
            errors.append(f"Row {number}: {'; '.join(problems)}.")
            continue
        if posted_on is None or amount is None:
            continue
        if amount < 0:
            parsed.debits += 1
            continue
        parsed.credits.append(
            StatementRow(
                row_number=number,
                posted_on=posted_on,
                description=values["description"][:300],
                reference=values["reference"][:200],
                amount=amount,
            )
        )
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        if len(errors) > MAX_ERRORS_SHOWN:
            shown.append(f"… and {len(errors) - MAX_ERRORS_SHOWN} more rows with errors.")
        heading = "Nothing was imported: correct these rows and upload again."
        raise ValidationError([heading, *shown])
    if not parsed.credits and not parsed.debits:
        raise ValidationError(f"The file has a header row but no lines. {FORMAT_HINT}")
    return parsed


def invoice_numbers_in(*texts: str) -> list[str]:
    """The invoice numbers written in a line's reference, then its description."""
    return [match.upper() for text in texts for match in INVOICE_NUMBER.findall(text)]


def _line_payment_write(
    *, actor: User | None, line: BankStatementLine, invoice: Invoice, currency: str
) -> None:
    """Record the line as the invoice's payment and set it against the invoice, up to what it
    owes (the caller holds the invoice's row)."""
    payment = payment_record(
        actor=actor,
        payment=PaymentInput(
            direction=PaymentDirection.RECEIVED,
            purpose=PaymentPurpose.INVOICE,
            status=PaymentStatus.COMPLETED,
            amount=line.amount,
            currency=currency,
            method=PaymentMethod.EFT,
            reference=(line.reference or line.description)[:100],
            paid_on=line.posted_on,
            notes=f"Bank statement {line.statement.file_name}, row {line.row_number}.",
            sponsor=invoice.sponsor,
            learner=invoice.learner,
            partner=invoice.partner,
        ),
    )
    allocations_write_locked(
        actor=actor,
        payment=payment,
        allocations=[(invoice, min(line.amount, invoice.balance))],
        invoices={invoice.pk: invoice},
    )
    line.payment = payment


def _duplicate(statement: BankStatementImport | None, digest: str) -> Refused:
    when = f" on {statement.uploaded_at:%-d %B %Y}" if statement is not None else ""
    name = f" (as {statement.file_name})" if statement is not None else ""
    return Refused(
        f"This statement was already imported{when}{name}: nothing was imported again.",
        action="bank_statement.import",
        entity_type="finance.bankstatementimport",
        entity_id=statement.pk if statement is not None else digest[:16],
    )


@refusals_audited
def statement_import(*, actor: User | None, content: bytes, file_name: str) -> BankStatementImport:
    """Read a statement, keep its credit lines and match each one it can (see the module)."""
    permission_check(actor=actor, action="bank_statement.import", permission=MANAGE_FINANCE)
    digest = hashlib.sha256(content).hexdigest()
    earlier = BankStatementImport.objects.filter(file_digest=digest).first()
    if earlier is not None:
        raise _duplicate(earlier, digest)
    parsed = statement_parse(content)
    currency = finance_settings_current().currency
    numbers = {
        number
        for row in parsed.credits
        for number in invoice_numbers_in(row.reference, row.description)
    }
    try:
        with transaction.atomic(durable=True):
            statement = BankStatementImport.objects.create(
                file_name=(file_name or "statement.csv")[-255:],
                file_digest=digest,
                uploaded_by=actor,
                debits_skipped=parsed.debits,
            )
            candidates = Invoice.objects.filter(
                number__in=numbers,
                kind=DocumentKind.INVOICE,
                status__in=OPEN_STATUSES,
                currency=currency,
            ).values_list("pk", flat=True)
            invoices = {invoice.number: invoice for invoice in invoices_lock(candidates).values()}
            matched = 0
            for row in parsed.credits:
                line = BankStatementLine(
                    statement=statement,
                    row_number=row.row_number,
                    posted_on=row.posted_on,
                    description=row.description,
                    reference=row.reference,
                    amount=row.amount,
                )
                invoice = next(
                    (
                        invoices[number]
                        for number in invoice_numbers_in(row.reference, row.description)
                        if number in invoices and invoices[number].balance > 0
                    ),
                    None,
                )
                if invoice is not None:
                    _line_payment_write(actor=actor, line=line, invoice=invoice, currency=currency)
                    line.status = StatementLineStatus.MATCHED
                    matched += 1
                line.save()
            audit_record(
                action="bank_statement.imported",
                entity=statement,
                actor=actor,
                new_values={
                    "file_name": statement.file_name,
                    "credits": len(parsed.credits),
                    "matched": matched,
                    "debits_skipped": parsed.debits,
                },
            )
    except IntegrityError as error:
        # Another upload of the same file won the race to the unique digest.
        raise _duplicate(None, digest) from error
    return statement


def _line_lock(line: BankStatementLine, action: str) -> BankStatementLine:
    locked: BankStatementLine = (
        BankStatementLine.objects.select_for_update(of=("self",))
        .select_related("statement")
        .get(pk=line.pk)
    )
    if locked.status != StatementLineStatus.UNMATCHED:
        raise Refused(
            f"Row {locked.row_number} is already {locked.get_status_display().lower()}.",
            action=action,
            entity_type="finance.bankstatementline",
            entity_id=locked.pk,
        )
    return locked


@refusals_audited
def statement_line_match(
    *, actor: User | None, line: BankStatementLine, invoice: Invoice
) -> BankStatementLine:
    """A person matches a line that waited for one to an open invoice: it is recorded as the
    invoice's payment and set against it, up to what it owes."""
    permission_check(actor=actor, action="bank_statement.line_match", permission=MANAGE_FINANCE)
    currency = finance_settings_current().currency
    with transaction.atomic(durable=True):
        line = _line_lock(line, "bank_statement.line_match")
        locked = invoices_lock([invoice.pk]).get(invoice.pk)
        if locked is None or locked.status not in OPEN_STATUSES or locked.balance <= 0:
            raise Refused(
                f"{invoice} owes nothing: choose an issued invoice that is not yet paid.",
                action="bank_statement.line_match",
                entity_type="finance.bankstatementline",
                entity_id=line.pk,
            )
        if locked.currency != currency:
            raise Refused(
                f"{invoice} is in {locked.currency}; the bank statement is in {currency}.",
                action="bank_statement.line_match",
                entity_type="finance.bankstatementline",
                entity_id=line.pk,
            )
        _line_payment_write(actor=actor, line=line, invoice=locked, currency=currency)
        line.status = StatementLineStatus.RESOLVED
        line.resolved_by = actor
        line.resolved_at = timezone.now()
        line.save(update_fields=["status", "payment", "resolved_by", "resolved_at"])
        audit_record(
            action="bank_statement.line_matched",
            entity=line,
            actor=actor,
            new_values={"invoice": locked.number, "payment": line.payment_id},
        )
    return line


@refusals_audited
def statement_line_ignore(
    *, actor: User | None, line: BankStatementLine, reason: str
) -> BankStatementLine:
    """Set aside a line that is no invoice's payment (interest, a transfer between accounts),
    saying why."""
    permission_check(actor=actor, action="bank_statement.line_ignore", permission=MANAGE_FINANCE)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Say why this line is set aside."})
    with transaction.atomic(durable=True):
        line = _line_lock(line, "bank_statement.line_ignore")
        line.status = StatementLineStatus.IGNORED
        line.ignore_reason = reason
        line.resolved_by = actor
        line.resolved_at = timezone.now()
        line.save(update_fields=["status", "ignore_reason", "resolved_by", "resolved_at"])
        audit_record(
            action="bank_statement.line_ignored",
            entity=line,
            actor=actor,
            new_values={"reason": reason},
        )
    return line
