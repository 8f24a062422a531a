"""What the bank details' pages read: every change waiting for a second person, partners' and
learners' alike, with who asked and when (masked: the bank's name and the last four digits)."""

from django.db.models import QuerySet

from partners.models import BankAccount, BankAccountChange, BankChangeStatus


def bank_changes_pending() -> QuerySet[BankAccountChange]:
    """The pending changes, the longest waiting first, with their owner and who asked."""
    return (
        BankAccountChange.objects.filter(status=BankChangeStatus.PENDING)
        .select_related("partner", "learner", "requested_by")
        .order_by("requested_at", "pk")
    )


def bank_change_page(*, pk: int) -> BankAccountChange:
    """One change with its owner and people (DoesNotExist when there is none)."""
    change: BankAccountChange = BankAccountChange.objects.select_related(
        "partner", "learner", "requested_by", "decided_by"
    ).get(pk=pk)
    return change


def bank_account_in_force(change: BankAccountChange) -> BankAccount | None:
    """The confirmed account of the change's owner, which the change would replace."""
    accounts = BankAccount.objects.select_related("confirmed_by")
    if change.partner_id is not None:
        return accounts.filter(partner_id=change.partner_id).first()
    return accounts.filter(learner=change.learner).first()
