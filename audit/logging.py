import logging

from django.db import connection

from audit.context import current_context


class CorrelationIdFilter(logging.Filter):
    """Stamp every log record with the correlation id and the schema it was written in."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = current_context().correlation_id
        record.schema = getattr(connection, "schema_name", "-")
        return True
