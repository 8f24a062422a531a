"""Running a migration in a test: on a scratch schema (the `scratch_schema` fixture), migrated to
before it, filled through the historical models, then migrated forward (or back)."""

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list[tuple[str, str]]) -> Apps:
    """Migrate the current schema to `targets`; the historical models as they are there."""
    # Foreign keys checked at once: a check deferred to the end of the test's transaction
    # would stop a later migration altering a table whose rows an earlier one wrote.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps
