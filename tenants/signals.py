"""What tenants tells the apps built on it, which connect their receivers in their
AppConfig.ready: tenants sits below every app and never imports them."""

from django.dispatch import Signal

# An institution has just been provisioned (kwargs: institution). Sent in its schema, inside
# the provisioning transaction: a receiver makes what every institution starts with, and it
# rolls back with the rest. Never sent for the template schema or the pool's clones of it.
institution_provisioned = Signal()
