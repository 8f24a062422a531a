"""The cohort evidence pack: one ZIP with what an auditor or a SETA asks of a completed cohort
(sealed agreements, verified documents, attendance, results, certificates, audit events) and
a manifest of every file's SHA-256, itself a sealed PDF carrying the list as JSON; and the
checks the public verify page makes against such a manifest."""
