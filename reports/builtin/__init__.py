"""The reports built into Cohortly, one module per area; importing this package registers them
(reports.registry)."""

from reports.builtin import (  # noqa: F401 (registered when imported)
    documents,
    equity,
    hosts,
    money,
    progress,
    projects,
    sync,
    teaching,
)
