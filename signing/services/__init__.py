"""Every write in signing, one module per topic; import from the module itself (this package
re-exports nothing):

- `templates`: agreement templates and their versions;
- `submissions`: making, sending, re-sending and revoking a submission;
- `links`: the signers' links, their re-sending and the reminders before they expire;
- `completion`: what a signer does (open, sign, decline) and the completion the last
  signature brings (stamping, the audit certificate, the institution's seal);
- `certificates`: the institution's sealing certificate, made or imported;
- `trail` and `files`: the submission's trail and audit events, and file writes that leave
  nothing behind, shared by the others.

Signers reached by an e-mailed link are anonymous: their audit events have no actor and name the
submitter instead, never their address or words. Each service runs in one transaction and writes
its audit event in it: the entry points (pages, tasks) in a durable one, and the composable
ones that other apps call inside their own (`submission_create`, `submission_send`,
`submission_revoke_in_transaction`, `submissions_revoke_pending`) in the caller's."""
