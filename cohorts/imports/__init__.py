"""Importing a cohort's students from a spreadsheet (CSV or XLSX), by topic:

- `reading`: the file: its type by content, size limits, header row, rows as text; the template.
- `validation`: the rows: each one's values, duplicates within the file, the learner each row is
  (by ID number and e-mail address together), students already in the cohort. From there on a
  row's ID number is sealed (encrypted, keyed hash, last four digits), never in clear.
- `writing`: `enrollments_import`, enrolling checked rows in bulk in one transaction (used by the
  `import_students` command and by the upload pages' tasks).
- `uploads`: imports through the pages (`StudentImport`): upload, check, preview, confirmation,
  import and cancellation, each step queued through the import's own row and kept moving by a
  sweep when a worker or the broker is lost.
- `selectors`: reads the pages use: what confirming would create, progress.

Race and disability are special personal information: they go onto the learner
(`learners.models.Learner`) and nowhere else (not into row errors, audit values, logs or
e-mails).
"""
