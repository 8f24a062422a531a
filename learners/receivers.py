"""What learners does when the layers below it move (tenants.signals); connected in
LearnersConfig.ready."""

from typing import Any

from learners.keys import data_keys_ensure
from tenants.models import Institution


def institution_provisioned_make_keys(
    sender: type[Institution], *, institution: Institution, **kwargs: Any
) -> None:
    """A new institution gets its own ID-number keys now, in its own schema (those made before
    keys existed got theirs from learners migration 0002)."""
    data_keys_ensure()
