import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import Invitation, SystemRole, User
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from notifications.services import email_deliver
from signing.models import InstitutionCertificate
from tenants.directory import email_directory_hash
from tenants.models import Domain, Institution, InstitutionDirectoryEntry
from tenants.services import (
    _pool_schemas,
    institution_provision,
    schema_pool_drain,
    schema_pool_refill,
)
from tests.factories import role_keys

pytestmark = pytest.mark.django_db


def test_provisioning_creates_schema_domain_super_admin_and_invitation():
    institution = institution_provision(
        name="Gamma Institute", code="gamma", admin_email="Head@Gamma.example"
    )

    assert institution.schema_name == "inst_gamma"
    assert schema_exists("inst_gamma")
    assert Domain.objects.get(tenant=institution).domain == "gamma.localhost"
    assert InstitutionDirectoryEntry.objects.filter(
        institution=institution, email_hash=email_directory_hash("head@gamma.example")
    ).exists()
    event = AuditEvent.objects.get(action="institution.provisioned", entity_id=str(institution.pk))
    # The founder's address is recorded as given, not kept in the trail.
    assert event.new_values == {
        "name": "Gamma Institute",
        "code": "gamma",
        "contact_email": "(changed)",
    }
    with tenant_context(institution):
        invited = AuditEvent.objects.get(action="user.invited")
        assert invited.new_values["email"] == "(changed)"
        assert "head@gamma" not in str(invited.new_values)
    with tenant_context(institution):
        admin = User.objects.get()
        assert admin.email == "head@gamma.example"
        assert role_keys(admin) == {SystemRole.SUPER_ADMIN}
        assert not admin.has_usable_password()
        assert Invitation.objects.get(user=admin).is_usable
        assert InstitutionCertificate.objects.filter(is_active=True).count() == 1
        # The clone carried the template's migration records and the audit trigger with it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'accounts'")
            assert cursor.fetchone()[0] >= 1
        email = OutboundEmail.objects.get(template="invitation")
        assert email_deliver(email_id=email.pk)
    assert mail.outbox[-1].to == ["head@gamma.example"]
    assert "http://gamma.localhost:8000/accounts/invitation/" in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("www", "reserved"),
        ("admin", "reserved"),
        ("public", "reserved"),
        ("alpha", "already taken"),
        ("Bad Code", "A code cannot contain spaces."),
        ("-lead", "A code must start with a letter."),
        ("9lives", "A code must start with a letter."),
        ("trail-", "A code cannot end with a hyphen."),
        ("a" * 41, "A code has at most 40 characters; this one has 41."),
        ("under_score", "A code cannot contain underscores."),
        ("acme!college", "A code cannot contain “!”."),
        ("", "Enter a code."),
    ],
)
def test_bad_codes_are_refused_and_create_nothing(institution, code, message):
    connection.set_schema_to_public()
    institutions_before = Institution.objects.count()
    with pytest.raises(ValidationError, match=message):
        institution_provision(name="Nope", code=code, admin_email="x@example.org")
    assert Institution.objects.count() == institutions_before
    assert not schema_exists("inst_" + code.replace("-", "_")) or code == "alpha"


def test_failure_after_the_schema_is_cloned_rolls_everything_back():
    with pytest.raises(ValidationError):
        institution_provision(name="Delta", code="delta", admin_email="not an address")
    assert not Institution.objects.filter(code="delta").exists()
    assert not schema_exists("inst_delta")


def test_create_institution_command(capsys):
    call_command(
        "create_institution", name="Epsilon", code="epsilon", admin_email="e@epsilon.example"
    )
    assert "Created Epsilon at http://epsilon.localhost:8000/" in capsys.readouterr().out
    with pytest.raises(CommandError, match="reserved"):
        call_command("create_institution", name="W", code="www", admin_email="w@example.org")


def test_provisioning_takes_a_ready_schema_from_the_pool_when_there_is_one():
    schema_pool_drain()
    schema_pool_refill(size=1)
    (pooled,) = _pool_schemas()

    institution = institution_provision(name="Pooled", code="pooled", admin_email="p@example.org")

    assert not schema_exists(pooled)
    assert schema_exists(institution.schema_name)
    with tenant_context(institution):
        assert User.objects.get().email == "p@example.org"
    assert _pool_schemas() == []


def test_migrate_platform_replaces_pooled_schemas(settings):
    settings.TENANT_SCHEMA_POOL_SIZE = 2
    schema_pool_refill(size=1)
    stale = set(_pool_schemas())
    call_command("migrate_platform", verbosity=0)
    fresh = set(_pool_schemas())
    assert len(fresh) == 2
    assert not stale & fresh
