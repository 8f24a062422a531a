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
