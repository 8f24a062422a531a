"""National ID numbers at rest, with `cryptography` only.

Each institution has its own keys, in its own schema (learners.models.DataKey), stored wrapped
by a master key from the environment (LEARNER_MASTER_KEYS: the first wraps, every one unwraps,
so a new master key can be brought in before the old one goes):

- encryption keys (AES-256-GCM), versioned: the newest encrypts, every version decrypts;
- one lookup key (HMAC-SHA256) for the numbers' keyed hashes, which make a number unique within
  the institution and findable without decrypting anything.

Outside production the master key is derived from SECRET_KEY; the settings refuse to start
production without LEARNER_MASTER_KEYS.
"""

import base64
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
from django.db import IntegrityError, transaction

from tenants.db import tenant_connection

WRAP_CONTEXT = b"cohortly-learner-data-key"
NUMBER_CONTEXT = b"cohortly-national-id"
_VERSION = struct.Struct(">I")
_NONCE_BYTES = 12


class KeyUnavailable(RuntimeError):
    """A key needed to read a number is not there: its master key is not configured, or the
    data key was destroyed."""


def master_keys() -> list[bytes]:
    """LEARNER_MASTER_KEYS (base64, 32 bytes each; the first is current), or in development
    and tests one key derived from SECRET_KEY."""
    configured = getattr(settings, "LEARNER_MASTER_KEYS", [])
    if configured:
        keys = [base64.b64decode(key) for key in configured]
        if any(len(key) != 32 for key in keys):
            raise ValueError("Each of LEARNER_MASTER_KEYS must be 32 bytes, base64-encoded.")
        return keys
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


# Per process, per schema. Keys are only ever added (rotation adds a version), so a process
# that has not seen a newer version still encrypts readably and reloads on an unknown one.
_loaded: dict[str, InstitutionKeys] = {}


def _data_key_model() -> Any:
    from learners.models import DataKey

    return DataKey


def data_key_create(purpose: str, *, model: Any = None) -> Any:
    """A new key for `purpose` (the next version), wrapped by the current master key."""
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
    """Make the schema's keys if it has none yet: at provisioning, and on first use in a schema
    made before keys existed. Two processes racing both end with the same keys."""
    model = model or _data_key_model()
    for purpose in ("encryption", "lookup"):
        if model.objects.filter(purpose=purpose).exists():
            continue
        try:
            with transaction.atomic():
                data_key_create(purpose, model=model)
        except IntegrityError:
            pass  # another process made version 1 first


def keys_forget() -> None:
    """Drop what this process has unwrapped (after a rotation, in tests)."""
    _loaded.clear()


def _keys(*, model: Any = None, reload: bool = False) -> InstitutionKeys:
    schema = tenant_connection.schema_name
    if not reload and schema in _loaded:
        return _loaded[schema]
    model = model or _data_key_model()
    rows = list(model.objects.all())
    if not rows:
        data_keys_ensure(model=model)
        rows = list(model.objects.all())
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
    _loaded[schema] = keys
    return keys


def number_normalise(number: str) -> str:
    """What is encrypted and hashed: no spaces or hyphens, upper case (passport letters)."""
    return "".join(number.replace("-", " ").split()).upper()


def national_id_digest(number: str, *, kind: str, country: str, model: Any = None) -> str:
    """The keyed hash that makes a number unique within the institution and finds it: the
    same number of another kind or country is another number."""
    message = f"{kind}:{country.upper()}:{number_normalise(number)}".encode()
    return hmac.new(_keys(model=model).lookup, message, hashlib.sha256).hexdigest()


def national_id_encrypt(number: str, *, model: Any = None) -> bytes:
    """Key version, nonce and AES-256-GCM ciphertext, in one value."""
    keys = _keys(model=model)
    version = keys.current_version
    header = _VERSION.pack(version)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(keys.encryption[version]).encrypt(
        nonce, number_normalise(number).encode(), header + NUMBER_CONTEXT
    )
    return header + nonce + sealed


def national_id_decrypt(blob: bytes | memoryview, *, model: Any = None) -> str:
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
            blob[_VERSION.size : start], blob[start:], header + NUMBER_CONTEXT
        )
    except InvalidTag as error:
        raise KeyUnavailable("A stored number does not open with its data key.") from error
    return plain.decode()


def encrypted_version(blob: bytes | memoryview) -> int:
    (version,) = _VERSION.unpack(bytes(blob)[: _VERSION.size])
    return version
