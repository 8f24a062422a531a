"""File storage whose every path starts with the current schema's name, so one institution's
files can never be addressed from another's. Local disk uses django-tenants'
TenantFileSystemStorage (MEDIA_ROOT/<schema>/); this is its S3 counterpart."""

from storages.backends.s3 import S3Storage

from tenants.db import tenant_connection


class TenantS3Storage(S3Storage):
    """S3-compatible object storage under <bucket>/<schema>/; files are private and reached
    only through short-lived signed URLs."""

    default_acl = "private"
    querystring_auth = True

    @property
    def location(self) -> str:
        return tenant_connection.schema_name

    @location.setter
    def location(self, value: str) -> None:
        """The location always follows the schema; a configured one is ignored."""
