"""ID numbers at rest: encrypted under the institution's own keys, found and kept unique by a
keyed hash, with keys made at provisioning, rotatable under a new master key, and unreadable
once destroyed."""

import base64
import io
import os

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context, tenant_context

from audit.models import AuditEvent
from learners.keys import (
    KeyUnavailable,
    data_keys_ensure,
    encrypted_version,
    key_unwrap,
    keys_forget,
    master_keys,
    national_id_decrypt,
    national_id_digest,
    national_id_encrypt,
)
from learners.models import DataKey, IdentityType, KeyPurpose, Learner
from learners.services import (
    learner_national_id,
    learner_national_id_set,
    national_id_fields,
    national_id_holder,
)
from tenants.services import _pool_schemas, institution_provision
from tests.learners.support import sa_id_number

pytestmark = pytest.mark.django_db

NUMBER = "9904125800080"


@pytest.fixture(autouse=True)
def _fresh_keys():
    """Each test starts, and leaves, without keys unwrapped by another (rolled back) test."""
    keys_forget()
    yield
    keys_forget()


def _learner(number: str, first_name: str = "Thandi", **fields) -> Learner:
    return Learner.objects.create(
        first_name=first_name,
        last_name="Mokoena",
        **national_id_fields(kind=IdentityType.SA_ID, country="", number=number),
        **fields,
    )


def _encoded(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_a_number_decrypts_to_itself_and_is_not_in_its_ciphertext(institution):
    blob = national_id_encrypt("990412 5800 080")

    assert NUMBER.encode() not in blob
    assert national_id_decrypt(blob) == NUMBER
    # Each encryption has its own nonce: equal numbers do not give equal ciphertexts.
    assert national_id_encrypt(NUMBER) != national_id_encrypt(NUMBER)


def test_the_keyed_hash_ignores_spaces_and_hyphens_but_not_the_kind_or_country(institution):
    digest = national_id_digest(NUMBER, kind=IdentityType.SA_ID, country="ZA")

    assert national_id_digest("990412-5800-080", kind="sa_id", country="za") == digest
    assert national_id_digest(" 990412 5800080 ", kind="sa_id", country="ZA") == digest
    assert national_id_digest(NUMBER, kind=IdentityType.PASSPORT, country="ZA") != digest
    passport = national_id_digest("A1234567", kind=IdentityType.PASSPORT, country="ZW")
    assert national_id_digest("A1234567", kind=IdentityType.PASSPORT, country="ZA") != passport
    assert national_id_digest("9904125800081", kind="sa_id", country="ZA") != digest


def test_a_second_learner_with_the_same_number_is_refused_naming_the_first(institution):
    first = _learner(NUMBER)
    second = Learner.objects.create(first_name="Sipho", last_name="Dlamini")

    with pytest.raises(ValidationError) as refused:
        learner_national_id_set(second, kind=IdentityType.SA_ID, number="990412-5800-080")

    assert refused.value.code == "national_id_taken"
    assert refused.value.params == {"name": "Thandi Mokoena", "pk": first.pk}
    # The learner who has it may set it again.
    assert learner_national_id_set(first, kind=IdentityType.SA_ID, number=NUMBER) == []


def test_the_database_refuses_two_learners_with_one_number(institution):
    _learner(NUMBER)

    with pytest.raises(IntegrityError), transaction.atomic():
        _learner(NUMBER, first_name="Sipho")


def test_a_learner_is_found_by_their_number_however_it_is_typed(institution):
    _learner(sa_id_number(1))
    holder = _learner(NUMBER, first_name="Lerato")

    found = national_id_holder(kind=IdentityType.SA_ID, country="", number="990412 5800 080")

    assert found == holder
    assert national_id_holder(kind=IdentityType.SA_ID, country="", number=sa_id_number(2)) is None
    assert national_id_holder(kind=IdentityType.PASSPORT, country="ZA", number=NUMBER) is None


def test_rotation_under_a_new_master_key_keeps_every_number_readable(institution, settings):
    old, new = master_keys()[0], os.urandom(32)
    learners = [_learner(sa_id_number(serial), first_name=f"L{serial}") for serial in range(5)]
    before = encrypted_version(learners[0].national_id_encrypted)

    # The new master key alone cannot open keys the old one wrapped.
    settings.LEARNER_MASTER_KEYS = [_encoded(new)]
    keys_forget()
    with pytest.raises(KeyUnavailable):
        learner_national_id(learners[0])

    settings.LEARNER_MASTER_KEYS = [_encoded(new), _encoded(old)]
    keys_forget()
    out = io.StringIO()
    call_command("learner_keys_rotate", institution="alpha", stdout=out)

    assert "alpha: 2 key(s) re-wrapped" in out.getvalue()
    assert f"encryption key version {before + 1} added" in out.getvalue()
    event = AuditEvent.objects.get(action="learner.keys_rotated")
    assert event.new_values["encryption_version"] == before + 1
    assert event.new_values["rewrapped"] == 2
    keys_forget()
    for serial, learner in enumerate(learners):
        learner.refresh_from_db()
        assert encrypted_version(learner.national_id_encrypted) == before
        assert learner_national_id(learner) == sa_id_number(serial)
    added = _learner(sa_id_number(9), first_name="After")
    assert encrypted_version(added.national_id_encrypted) == before + 1

    out = io.StringIO()
    call_command("learner_ids_reencrypt", institution="alpha", batch_size=2, stdout=out)

    assert "alpha: 5 re-encrypted, 1 already current" in out.getvalue()
    settings.LEARNER_MASTER_KEYS = [_encoded(new)]
    keys_forget()
    for serial, learner in enumerate(learners):
        learner.refresh_from_db()
        assert encrypted_version(learner.national_id_encrypted) == before + 1
        assert learner_national_id(learner) == sa_id_number(serial)
    assert national_id_holder(kind="sa_id", country="", number=sa_id_number(3)) == learners[3]
    assert AuditEvent.objects.filter(action="learner.national_ids_reencrypted").count() == 3


def test_rotating_and_reencrypting_again_does_no_harm(institution):
    learner = _learner(NUMBER)
    call_command("learner_keys_rotate", institution="alpha", stdout=io.StringIO())
    call_command("learner_ids_reencrypt", institution="alpha", stdout=io.StringIO())
    out = io.StringIO()

    call_command("learner_keys_rotate", institution="alpha", stdout=out)
    call_command("learner_ids_reencrypt", institution="alpha", stdout=out)
    call_command("learner_ids_reencrypt", institution="alpha", stdout=out)

    assert "alpha: 0 key(s) re-wrapped" in out.getvalue()
    assert out.getvalue().count("alpha: 0 re-encrypted, 1 already current") == 1
    learner.refresh_from_db()
    keys_forget()
    assert learner_national_id(learner) == NUMBER


def test_a_destroyed_data_key_makes_its_numbers_unreadable(institution):
    learner = _learner(NUMBER)
    version = encrypted_version(learner.national_id_encrypted)

    DataKey.objects.filter(purpose=KeyPurpose.ENCRYPTION, version=version).delete()
    keys_forget()

    with pytest.raises(KeyUnavailable):
        learner_national_id(learner)


def test_an_unknown_institution_is_refused_by_the_commands(institution):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="nowhere"):
        call_command("learner_keys_rotate", institution="nowhere", stdout=io.StringIO())


def _unwrapped(purpose: str) -> bytes:
    row = DataKey.objects.get(purpose=purpose)
    return key_unwrap(row.wrapped_key, row.master_fingerprint)


def test_each_new_institution_gets_keys_of_its_own_at_provisioning():
    gamma = institution_provision(name="Gamma", code="gamma", admin_email="head@gamma.example")
    delta = institution_provision(name="Delta", code="delta", admin_email="head@delta.example")

    keys = {}
    for made in (gamma, delta):
        with tenant_context(made):
            # Made by provisioning itself, before any number asked for them.
            assert sorted(DataKey.objects.values_list("purpose", "version")) == [
                (KeyPurpose.ENCRYPTION, 1),
                (KeyPurpose.LOOKUP, 1),
            ]
            keys[made.code] = (
                _unwrapped(KeyPurpose.ENCRYPTION),
                _unwrapped(KeyPurpose.LOOKUP),
                national_id_digest(NUMBER, kind="sa_id", country="ZA"),
            )
    assert all(one != other for one, other in zip(keys["gamma"], keys["delta"], strict=True))
    # The template and the pool, which later institutions are copied from, have none.
    for schema_name in (settings.TENANT_BASE_SCHEMA, *_pool_schemas()):
        with schema_context(schema_name):
            assert not DataKey.objects.exists()


def test_no_keys_are_made_in_the_template_schema():
    with schema_context(settings.TENANT_BASE_SCHEMA), pytest.raises(KeyUnavailable):
        data_keys_ensure()
