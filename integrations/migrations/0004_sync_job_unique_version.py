from django.db import migrations, models

# Jobs queued before versions existed all got version 1: a record with several such jobs
# has them numbered in the order they were queued, so that each version is one job.
RENUMBER = """
UPDATE integrations_syncjob AS job SET version = numbered.number
FROM (
    SELECT id, row_number() OVER (PARTITION BY entity_type, entity_id ORDER BY id) AS number
    FROM integrations_syncjob
    WHERE (entity_type, entity_id) IN (
        SELECT entity_type, entity_id FROM integrations_syncjob
        GROUP BY entity_type, entity_id, version HAVING count(*) > 1
    )
) AS numbered
WHERE job.id = numbered.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_versions_and_receipts"),
    ]

    operations = [
        migrations.RunSQL(RENUMBER, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="syncjob",
            constraint=models.UniqueConstraint(
                fields=("entity_type", "entity_id", "version"), name="sync_job_unique_version"
            ),
        ),
    ]
