"""The reports built into Cohortly, one module per area; importing this package registers them
(reports.registry)."""
