"""Authenticated encryption of provider credentials at rest (Fernet: AES-CBC + HMAC).

Keys come from settings.ENCRYPTION_KEYS, newest first: the first encrypts, every key
decrypts, so a new key can be put in front and old ciphertexts re-encrypted with
`manage.py rotate_secrets` before the old key is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

__all__ = ["InvalidToken", "decrypt_json", "encrypt_json", "reencrypt"]


def _fernet() -> MultiFernet:
    keys = list(settings.ENCRYPTION_KEYS)
    if not keys:
        # Development fallback only; a system check refuses it when DEBUG is off.
        digest = hashlib.sha256(b"smshub-credentials:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


@sensitive_variables()
def encrypt_json(data: dict) -> str:
    if not data:
        return ""
    return _fernet().encrypt(json.dumps(data).encode()).decode()


@sensitive_variables()
def decrypt_json(ciphertext: str) -> dict:
    if not ciphertext:
        return {}
    return json.loads(_fernet().decrypt(ciphertext.encode()))


def reencrypt(ciphertext: str) -> str:
    """Re-encrypt with the newest key (for key rotation)."""
    if not ciphertext:
        return ""
    return _fernet().rotate(ciphertext.encode()).decode()
