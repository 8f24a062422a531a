"""What integrations tells the apps whose records it sends. Receivers run inside the
transaction that changed the job, so a record's own sync columns (seed 002 `sync_status`,
`sync_reference`, `sync_attempts`) change with the job or not at all.

`sync_job_recorded(sender=SyncJob, job=job)`: a job was queued, or its attempt's
outcome recorded (accepted, refused, retried, dead-lettered, superseded, cancelled, retried by
a person). The receiver looks at `job.entity_type` and ignores other apps' records."""

from django.dispatch import Signal

sync_job_recorded = Signal()
