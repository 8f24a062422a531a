from django.conf import settings
from django.db import migrations
from django_tenants.utils import get_public_schema_name

from learners.keys import data_keys_ensure
from tenants.services import POOL_PREFIX


def keys_for_this_institution(apps, schema_editor):
    """An institution made before ID-number keys existed gets its own now; the template and
    its pooled clones never do (every new institution copies them, and gets its own keys when
    it is provisioned)."""
    schema = schema_editor.connection.schema_name
    if schema in (settings.TENANT_BASE_SCHEMA, get_public_schema_name()) or schema.startswith(
        POOL_PREFIX
    ):
        return
    data_keys_ensure(model=apps.get_model("learners", "DataKey"))


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(keys_for_this_institution, migrations.RunPython.noop),
    ]
