"""The sandbox endpoint's key (SPEC §3.6): derived from SECRET_KEY, so no secret of its own is
stored anywhere; the provider's `X-Sandbox-Key` header carries it (masked in previews and the
audit log, as every header whose name says "key")."""

from __future__ import annotations

import hmac

from django.utils.crypto import salted_hmac

HEADER = "X-Sandbox-Key"


def sandbox_key() -> str:
    """The key of this installation; it changes when SECRET_KEY does (`ensure_sandbox` then
    puts the new one in the sandbox provider's header)."""
    return salted_hmac("smshub.sandbox", "endpoint key", algorithm="sha256").hexdigest()


def is_valid(value: str | None) -> bool:
    """Compared in constant time."""
    return bool(value) and hmac.compare_digest(value.encode(), sandbox_key().encode())
