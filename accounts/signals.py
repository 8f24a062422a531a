"""What accounts asks the apps built on it, which connect their receivers in their
AppConfig.ready: accounts sits below them and never imports them."""

from django.dispatch import Signal

# Asked before an invited person sets their password, or asks for a new invitation: each
# receiver returns why the invitation no longer leads anywhere (a student invited only to
# cohorts that have closed since), or "" (kwargs: user).
invitation_refusals_asked = Signal()

# Asked how many days a deleted account waits before it is anonymised: the receiver (data
# protection's settings) returns a number of days; without one, the seed's 30 days hold.
account_purge_days_asked = Signal()

# Sent inside the transaction that deletes an account (kwargs: user): the apps above take away
# what lets the person act without signing in (signing links).
account_deleted = Signal()

# Sent inside the transaction that anonymises a deleted account (kwargs: user): the apps above
# delete what they keep for that account alone (an access request's export).
account_purged = Signal()
