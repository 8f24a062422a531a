"""The database connection as django-tenants' backend extends it: `django.db.connection` is
typed as Django's own wrapper, which has no current schema or tenant."""

from typing import TYPE_CHECKING, Protocol, cast

from django.db import connection

if TYPE_CHECKING:
    from tenants.models import Institution


class TenantConnection(Protocol):
    """What django-tenants' PostgreSQL backend adds to a connection."""

    schema_name: str
    tenant: "Institution"

    def set_tenant(self, tenant: "Institution", include_public: bool = True) -> None: ...

    def set_schema(self, schema_name: str, include_public: bool = True) -> None: ...

    def set_schema_to_public(self) -> None: ...


# The same object as django.db.connection (a proxy to the current thread's connection).
tenant_connection = cast(TenantConnection, connection)


def schema_lock(name: str) -> None:
    """Take the current schema's advisory lock `name` until the transaction ends: writers whose
    check finds nothing to lock (the first row of a table, dates free of others) take turns,
    so that the second one's check sees the first one's row and refuses with its message."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || %s))", [name]
        )
