"""Academic years named after the calendar the tests run in: this year is current, the next
one has not started, so that the tests mean the same thing in any year."""

from django.utils import timezone

THIS = timezone.localdate().year
NEXT = THIS + 1
