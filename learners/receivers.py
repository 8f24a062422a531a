"""What learners does when the layers below it move (tenants.signals); connected in
LearnersConfig.ready."""

from typing import Any

from learners.keys import data_keys_ensure
from tenants.models import Institution


def institution_provisioned_make_keys(
    sender: type[Institution], *, institution: Institution, **kwargs: Any
) -> None:
    """A new institution gets its own ID-number keys now, in its own schema, rather than on
    its first number (which stays the fallback for institutions made before keys existed)."""
    data_keys_ensure()
