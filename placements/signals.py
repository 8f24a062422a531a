"""What placements tells other apps, so that they need not read its tables.

`placement_confirmed(sender=Placement, placement=..., actor=...)` is sent inside the confirming
transaction, after the placement is saved and audited: a partner's commission accrues on it
(the finance app connects), and anything a receiver writes commits or rolls back with it."""

from django.dispatch import Signal

placement_confirmed = Signal()
