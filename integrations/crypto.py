"""Encryption, from `cryptography` only: credentials and acknowledgements at rest (Fernet, key
from INTEGRATIONS_ENCRYPTION_KEY) and the AES-256-CBC payload encryption that training gateways
such as Singapore's TPGateway demand (a shared 256-bit key, PKCS#7 padding, base64)."""

import base64
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class PayloadDecryptionError(ValueError):
    """A payload that is not valid ciphertext under the shared key."""


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def at_rest_key() -> str:
    """INTEGRATIONS_ENCRYPTION_KEY (a Fernet key), or in development and tests one derived
    from SECRET_KEY; the settings refuse to start production without it."""
    configured = getattr(settings, "INTEGRATIONS_ENCRYPTION_KEY", "")
    if configured:
        return configured
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"cohortly-integrations"
    ).derive(settings.SECRET_KEY.encode())
    return base64.urlsafe_b64encode(derived).decode()


def at_rest_encrypt(value: Any) -> str:
    """JSON under the at-rest key: what we keep that must not be readable in the database
    (credentials, a gateway's acknowledgements)."""
    return _fernet(at_rest_key()).encrypt(json.dumps(value).encode()).decode()


def at_rest_decrypt(token: str) -> Any:
    """What `at_rest_encrypt` stored; None for nothing stored."""
    if not token:
        return None
    try:
        return json.loads(_fernet(at_rest_key()).decrypt(token.encode()))
    except InvalidToken as error:
        raise ValueError("The stored value cannot be read with this key.") from error


def credentials_encrypt(credentials: dict[str, str]) -> str:
    return at_rest_encrypt(credentials)


def credentials_decrypt(token: str) -> dict[str, str]:
    return at_rest_decrypt(token) or {}


def _aes_key(key_b64: str) -> bytes:
    key = base64.b64decode(key_b64)
    if len(key) != 32:
        raise ValueError("The gateway's encryption key must be 256 bits (32 bytes, base64).")
    return key


def gateway_encrypt(data: Any, *, key_b64: str, iv: bytes | None = None) -> str:
    """JSON, AES-256-CBC, base64. Without a fixed `iv` (which some gateways prescribe) a random
    one is prepended to the ciphertext."""
    fixed = iv is not None
    iv = iv if iv is not None else os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(data, separators=(",", ":")).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_aes_key(key_b64)), modes.CBC(iv)).encryptor()
    cipher = encryptor.update(plain) + encryptor.finalize()
    return base64.b64encode(cipher if fixed else iv + cipher).decode()


def gateway_decrypt(text: str | bytes, *, key_b64: str, iv: bytes | None = None) -> Any:
    try:
        raw = base64.b64decode(text, validate=True)
        if iv is None:
            iv, raw = raw[:16], raw[16:]
        decryptor = Cipher(algorithms.AES(_aes_key(key_b64)), modes.CBC(iv)).decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return json.loads(unpadder.update(padded) + unpadder.finalize())
    except (ValueError, TypeError) as error:
        raise PayloadDecryptionError(str(error) or "not valid ciphertext") from error
