"""`$$MessageID` tokens (SPEC §3.3): opaque, URL-safe, at most 64 characters, carrying a MAC.

A token is base64url(version · message id · HMAC-SHA256(key, version · message id)[:16]),
34 characters for any 64-bit id. It holds no personal data, and a forged or altered token
is rejected by `verify` without touching the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from functools import lru_cache

from django.conf import settings

VERSION = 1
_PAYLOAD = struct.Struct(">BQ")  # version byte, unsigned 64-bit message id
_MAC_BYTES = 16
TOKEN_LENGTH = 34


class InvalidMessageId(ValueError):
    """The token was not issued by this hub (forged, altered, truncated or another key)."""


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"smshub-message-id:" + secret.encode()).digest()


def _mac(payload: bytes) -> bytes:
    # A callback verifies a token per event: the one-shot C digest keeps that cheap.
    return hmac.digest(_key(settings.SECRET_KEY), payload, "sha256")[:_MAC_BYTES]


def sign(message_id: int) -> str:
    """The `$$MessageID` token of a message."""
    payload = _PAYLOAD.pack(VERSION, message_id)
    return _encode(payload + _mac(payload))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def verify(token: str) -> int:
    """The message id inside a token; raises InvalidMessageId unless the MAC checks out."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        raise InvalidMessageId("wrong length")
    try:
        raw = base64.b64decode(token + "==", altchars=b"-_", validate=True)
    except (ValueError, TypeError) as exc:
        raise InvalidMessageId("not base64url") from exc
    if _encode(raw) != token:
        # The last character carries spare bits: only the canonical spelling is ours.
        raise InvalidMessageId("not canonical")
    payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _mac(payload)):
        raise InvalidMessageId("bad MAC")
    version, message_id = _PAYLOAD.unpack(payload)
    if version != VERSION:
        raise InvalidMessageId("unknown version")
    return message_id
