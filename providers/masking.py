"""Hiding credentials in what an admin is shown (test SMS previews, audit log)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .base import ShownRequest

MASK = "••••••"
# Header names that usually carry credentials (Authorization, X-Api-Key, X-Auth-Token, …).
SENSITIVE_HEADER = re.compile(r"auth|key|token|secret|signature|password|cookie", re.IGNORECASE)


def mask_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    auth: tuple[str, str] | None,
    secrets: Iterable[str],
) -> ShownRequest:
    secrets = [s for s in secrets if s]
    shown_headers = {}
    if auth:
        shown_headers["Authorization"] = f"Basic {MASK} (username {auth[0]})"
    for name, value in headers.items():
        if name.lower() == "authorization" and " " in value:
            value = f"{value.split(' ', 1)[0]} {MASK}"
        elif SENSITIVE_HEADER.search(name):
            value = MASK
        shown_headers[name] = _hide(value, secrets)
    text = body.decode("utf-8", errors="replace") if body else ""
    return ShownRequest(method, _hide(url, secrets), shown_headers, _hide(text, secrets))


def _hide(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text
