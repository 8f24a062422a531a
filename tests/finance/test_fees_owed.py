"""Fees owed: the cohort's sponsor owes its learners' fees, a learner without a sponsor their
own; what issued invoices billed less credit notes is invoiced; drafting makes one invoice per
payer with a line per fee left, and never drafts a fee a draft already covers."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from finance.models import Invoice
from finance.selectors.fees import LEARNERS_PAY, fee_groups, fees_owed, fees_totals
from finance.services.credit_notes import credit_note_draft_create
from finance.services.fees import fee_invoices_draft
from finance.services.invoices import LineInput, invoice_issue
from tests.finance.support import FEE, finance_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return finance_world(admin, learners=3)


def owed(**filters):
    return {row.pk: row for row in fees_owed(**filters)}


def all_ids():
    return list(fees_owed().values_list("pk", flat=True))


def test_the_sponsor_owes_every_fee_until_invoiced(world):
    rows = owed()
    assert len(rows) == 3
    for row in rows.values():
        assert row.payer_key == f"sponsor-{world.sponsor.pk}"
        assert (row.invoiced, row.left, row.drafted) == (0, FEE, 0)
    (total,) = fees_totals(fees_owed())
    assert (total.fee, total.left) == (FEE * 3, FEE * 3)


def test_without_a_sponsor_each_learner_owes_their_own(world):
    cohort = world.workplace.run.cohort
    cohort.sponsor = None
    cohort.save(update_fields=["sponsor"])
    rows = list(fees_owed())
    assert {row.payer_key for row in rows} == {
        f"learner-{placed.learner.pk}" for placed in world.placed
    }
    assert len(fees_owed(payer=LEARNERS_PAY)) == 3
    assert not fees_owed(payer=f"sponsor-{world.sponsor.pk}").exists()
    groups = fee_groups(rows, fees_owed())
    assert len(groups) == 3
    assert not groups[0].is_sponsor
    drafts = fee_invoices_draft(actor=world.finance, course_enrollment_ids=all_ids())
    assert len(drafts) == 3
    assert {d.learner_id for d in drafts} == {placed.learner.pk for placed in world.placed}


def test_drafting_makes_one_invoice_per_payer_and_never_twice(world):
    (draft,) = fee_invoices_draft(actor=world.finance, course_enrollment_ids=all_ids())
    assert draft.sponsor_id == world.sponsor.pk
    lines = list(draft.lines.all())
    assert len(lines) == 3
    placed = world.placed[0]
    line = next(ln for ln in lines if ln.course_enrollment_id == placed.course_enrollment.pk)
    assert line.description == (
        f"Tuition: {placed.course_enrollment.course.name} {world.workplace.run.title} — "
        f"{placed.learner.full_name}"
    )
    assert line.unit_price == FEE
    assert draft.total == FEE * 3
    assert all(row.drafted == FEE for row in owed().values())
    assert fee_invoices_draft(actor=world.finance, course_enrollment_ids=all_ids()) == []
    assert Invoice.objects.count() == 1


def test_partly_invoiced_and_credited_fees(world):
    first, second, _third = world.placed
    (draft,) = fee_invoices_draft(
        actor=world.finance, course_enrollment_ids=[first.course_enrollment.pk]
    )
    invoice = invoice_issue(actor=world.finance, invoice=draft)
    rows = owed()
    assert (rows[first.course_enrollment.pk].invoiced, rows[first.course_enrollment.pk].left) == (
        FEE,
        0,
    )
    note = credit_note_draft_create(
        actor=world.finance,
        invoice=invoice,
        lines=[
            LineInput(
                description="Half",
                unit_price=Decimal("2000.00"),
                vat_applies=False,
                course_enrollment=first.course_enrollment,
            )
        ],
    )
    invoice_issue(actor=world.finance, invoice=note)
    row = owed()[first.course_enrollment.pk]
    assert (row.invoiced, row.left) == (FEE - 2000, Decimal("2000.00"))
    # What is left is drafted again, and only that; the others in full.
    (again,) = fee_invoices_draft(actor=world.finance, course_enrollment_ids=all_ids())
    amounts = {ln.course_enrollment_id: ln.unit_price for ln in again.lines.all()}
    assert amounts == {
        first.course_enrollment.pk: Decimal("2000.00"),
        second.course_enrollment.pk: FEE,
        _third.course_enrollment.pk: FEE,
    }


def test_filters_by_cohort_and_run(world):
    assert len(owed(cohort=world.workplace.run.cohort)) == 3
    assert len(owed(run=world.workplace.run)) == 3


def test_only_finance_drafts_fee_invoices(world):
    with pytest.raises(PermissionDenied):
        fee_invoices_draft(actor=world.admin, course_enrollment_ids=all_ids())
    assert not Invoice.objects.exists()
