"""National ID numbers (and other values, such as bank details) at rest, with `cryptography`
only.

Each institution has its own keys, in its own schema (learners.models.DataKey), stored wrapped
by a master key from the environment (LEARNER_MASTER_KEYS: the first wraps, every one unwraps,
so a new master key can be brought in before the old one goes):

- encryption keys (AES-256-GCM), versioned: the newest encrypts, every version decrypts;
- one lookup key (HMAC-SHA256) for the numbers' keyed hashes, which make a number unique within
  the institution and findable without decrypting anything.

Outside production the master key is derived from SECRET_KEY; the settings refuse to start
production without LEARNER_MASTER_KEYS, and the system check `cohortly.E002` (config.checks)
refuses a malformed one.

Rotation (learners.services.learner_keys_rotate) re-wraps a schema's keys under the current
master key and adds an encryption key version; `learner_ids_reencrypt` then moves every number
to it. The lookup key is not rotated: every keyed hash would change with it.
"""

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django_tenants.utils import get_public_schema_name

from tenants.db import tenant_connection
from tenants.services import POOL_PREFIX

WRAP_CONTEXT = b"cohortly-learner-data-key"
NUMBER_CONTEXT = b"cohortly-national-id"
_VERSION = struct.Struct(">I")
_NONCE_BYTES = 12


class KeyUnavailable(RuntimeError):
    """A key needed to read a number is not there: its master key is not configured, or the
    data key was destroyed."""


def _master_key_decode(encoded: str, position: int) -> bytes:
    """One configured master key, or ImproperlyConfigured naming it by position (never by
    value: the message may reach a log)."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(
            f"LEARNER_MASTER_KEYS: key {position} is not 32 bytes encoded in base64 (make one "
            "with: python -c 'import base64, os; "
            "print(base64.b64encode(os.urandom(32)).decode())')."
        )
    return key


def master_keys() -> list[bytes]:
    """LEARNER_MASTER_KEYS (base64, 32 bytes each; the first is current), or in development
    and tests one key derived from SECRET_KEY. ImproperlyConfigured for a malformed key, or
    none in production."""
    configured = getattr(settings, "LEARNER_MASTER_KEYS", [])
    if configured:
        return [_master_key_decode(key, position) for position, key in enumerate(configured, 1)]
    if settings.PRODUCTION:
        raise ImproperlyConfigured(
            "LEARNER_MASTER_KEYS is empty: production needs at least one master key."
        )
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"cohortly-learner-master"
    ).derive(settings.SECRET_KEY.encode())
    return [derived]


def master_fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def key_wrap(key: bytes, master: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(master).encrypt(nonce, key, WRAP_CONTEXT)


def key_unwrap(wrapped: bytes, fingerprint: str) -> bytes:
    for master in master_keys():
        if master_fingerprint(master) == fingerprint:
            wrapped = bytes(wrapped)
            try:
                return AESGCM(master).decrypt(
                    wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], WRAP_CONTEXT
                )
            except InvalidTag as error:
                raise KeyUnavailable("A data key does not open with its master key.") from error
    raise KeyUnavailable(
        f"The master key {fingerprint} that wrapped this institution's data key is not among "
        "LEARNER_MASTER_KEYS."
    )


@dataclass
class InstitutionKeys:
    """The unwrapped keys of one schema, as loaded from its DataKey rows."""

    encryption: dict[int, bytes] = field(default_factory=dict)
    lookup: bytes = b""

    @property
    def current_version(self) -> int:
        return max(self.encryption)


# Per process, per schema and institution (a schema name comes back if an institution whose
# provisioning failed is made again; its id does not). Keys are only ever added (rotation adds
# a version), so a process that has not seen a newer version still encrypts readably and
# reloads on an unknown one. A schema restored from a dump wants the processes restarted.
_loaded: dict[tuple[str, object], InstitutionKeys] = {}


def _data_key_model() -> Any:
    from learners.models import DataKey

    return DataKey


def _schema_check() -> None:
    """Keys belong to one institution: never to the template schema or a pooled clone of it,
    which every new institution copies (it would share them), nor to the public schema."""
    schema = tenant_connection.schema_name
    if schema in (settings.TENANT_BASE_SCHEMA, get_public_schema_name()) or schema.startswith(
        POOL_PREFIX
    ):
        raise KeyUnavailable(f"The schema {schema} is no institution's: it gets no data keys.")


def data_key_create(purpose: str, *, model: Any = None) -> Any:
    """A new key for `purpose` (the next version), wrapped by the current master key."""
    _schema_check()
    model = model or _data_key_model()
    master = master_keys()[0]
    latest = model.objects.filter(purpose=purpose).order_by("-version").first()
    version = latest.version + 1 if latest else 1
    key = model.objects.create(
        purpose=purpose,
        version=version,
        wrapped_key=key_wrap(os.urandom(32), master),
        master_fingerprint=master_fingerprint(master),
    )
    keys_forget()
    return key


def data_keys_ensure(*, model: Any = None) -> None:
    """Make the schema's keys if it has none yet: at provisioning, and once for the institutions
    made before keys existed (learners migration 0002). Never on first use: keys made inside a
    transaction that then rolls back would live on in a process's memory, and numbers
    encrypted under them could never be read. Two processes racing both end with the same
    keys."""
    model = model or _data_key_model()
    for purpose in ("encryption", "lookup"):
        if model.objects.filter(purpose=purpose).exists():
            continue
        try:
            with transaction.atomic():
                data_key_create(purpose, model=model)
        except IntegrityError:
            pass  # another process made version 1 first


def data_keys_rewrap() -> int:
    """Wrap again, under the current master key, every key of this schema that another master
    key wrapped; the keys themselves do not change. In the caller's transaction, with the rows
    locked. Returns how many were re-wrapped."""
    model = _data_key_model()
    master = master_keys()[0]
    fingerprint = master_fingerprint(master)
    rewrapped = 0
    # Every row locked, not only those to re-wrap: two rotations at once take turns.
    for row in model.objects.select_for_update().order_by("pk"):
        if row.master_fingerprint == fingerprint:
            continue
        row.wrapped_key = key_wrap(key_unwrap(row.wrapped_key, row.master_fingerprint), master)
        row.master_fingerprint = fingerprint
        row.save(update_fields=["wrapped_key", "master_fingerprint"])
        rewrapped += 1
    keys_forget()
    return rewrapped


def keys_forget() -> None:
    """Drop what this process has unwrapped (after a rotation, in tests)."""
    _loaded.clear()


def _keys(*, model: Any = None, reload: bool = False) -> InstitutionKeys:
    cache_key = (
        tenant_connection.schema_name,
        getattr(getattr(tenant_connection, "tenant", None), "pk", None),
    )
    if not reload and cache_key in _loaded:
        return _loaded[cache_key]
    model = model or _data_key_model()
    rows = list(model.objects.all())
    if not rows:
        raise KeyUnavailable(
            f"The schema {cache_key[0]} has no ID-number keys: an institution gets them when it "
            "is provisioned (learners.keys.data_keys_ensure)."
        )
    keys = InstitutionKeys()
    for row in rows:
        unwrapped = key_unwrap(row.wrapped_key, row.master_fingerprint)
        if row.purpose == "lookup":
            if row.version == 1:
                keys.lookup = unwrapped
        else:
            keys.encryption[row.version] = unwrapped
    if not keys.lookup or not keys.encryption:
        raise KeyUnavailable("This institution's data keys are incomplete.")
    _loaded[cache_key] = keys
    return keys


def number_normalise(number: str) -> str:
    """What is encrypted and hashed: no spaces or hyphens, upper case (passport letters)."""
    return "".join(number.replace("-", " ").split()).upper()


def national_id_digest(number: str, *, kind: str, country: str, model: Any = None) -> str:
    """The keyed hash that makes a number unique within the institution and finds it: the
    same number of another kind or country is another number."""
    message = f"{kind}:{country.upper()}:{number_normalise(number)}".encode()
    return hmac.new(_keys(model=model).lookup, message, hashlib.sha256).hexdigest()


def text_encrypt(text: str, *, context: bytes, model: Any = None) -> bytes:
    """Key version, nonce and AES-256-GCM ciphertext of `text`, in one value; `context` (what
    the value is) is bound to it, so a value cannot be passed off as another kind."""
    keys = _keys(model=model)
    version = keys.current_version
    header = _VERSION.pack(version)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(keys.encryption[version]).encrypt(nonce, text.encode(), header + context)
    return header + nonce + sealed


def text_decrypt(blob: bytes | memoryview, *, context: bytes, model: Any = None) -> str:
    blob = bytes(blob)
    header = blob[: _VERSION.size]
    (version,) = _VERSION.unpack(header)
    keys = _keys(model=model)
    if version not in keys.encryption:
        keys = _keys(model=model, reload=True)
    if version not in keys.encryption:
        raise KeyUnavailable(f"The data key version {version} is not there (destroyed?).")
    start = _VERSION.size + _NONCE_BYTES
    try:
        plain = AESGCM(keys.encryption[version]).decrypt(
            blob[_VERSION.size : start], blob[start:], header + context
        )
    except InvalidTag as error:
        raise KeyUnavailable("A stored value does not open with its data key.") from error
    return plain.decode()


def national_id_encrypt(number: str, *, model: Any = None) -> bytes:
    return text_encrypt(number_normalise(number), context=NUMBER_CONTEXT, model=model)


def national_id_decrypt(blob: bytes | memoryview, *, model: Any = None) -> str:
    return text_decrypt(blob, context=NUMBER_CONTEXT, model=model)


def encrypted_version(blob: bytes | memoryview) -> int:
    (version,) = _VERSION.unpack(bytes(blob)[: _VERSION.size])
    return version


def national_id_reencrypt(blob: bytes | memoryview) -> bytes | None:
    """The number of `blob` encrypted again under the current encryption key version, or None
    when it already is."""
    if encrypted_version(blob) == _keys().current_version:
        return None
    return national_id_encrypt(national_id_decrypt(blob))
