"""What integrations tells the apps whose records it sends. Receivers run inside the
transaction that changed the jobs, so a record's own sync columns (seed 002 `sync_status`,
`sync_reference`, `sync_attempts`) change with its jobs or not at all.

`sync_jobs_recorded(sender=SyncJob, jobs=[...])`: jobs were queued, their attempts' outcomes
recorded (accepted, refused, retried, dead-lettered, superseded), or a person retried or
cancelled one. One signal per batch: a receiver handles the whole list in a few queries, and
ignores the jobs of other apps' records (`job.entity_type`)."""

from django.dispatch import Signal

sync_jobs_recorded = Signal()
