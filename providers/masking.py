"""Hiding credentials in what an admin is shown (test SMS previews, audit log)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

from .base import ShownRequest

MASK = "••••••"
# Names of headers, parameters and OAuth extras that usually carry credentials (Authorization,
# X-Api-Key, apikey, access_key, auth_token, client_secret, password, passwd, pwd, …).
SENSITIVE_HEADER = re.compile(
    r"auth|key|token|secret|signature|passw|pwd|cookie|credential", re.IGNORECASE
)


def looks_like_credential(name: str) -> bool:
    return bool(SENSITIVE_HEADER.search(name))


def mask_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    auth: tuple[str, str] | None,
    secrets: Iterable[str],
) -> ShownRequest:
    secrets = _written_forms(secrets)
    shown_headers = {}
    if auth:
        shown_headers["Authorization"] = f"Basic {MASK} (username {auth[0]})"
    for name, value in headers.items():
        if name.lower() == "authorization" and " " in value:
            value = f"{value.split(' ', 1)[0]} {MASK}"
        elif looks_like_credential(name):
            value = MASK
        shown_headers[name] = _hide(value, secrets)
    text = body.decode("utf-8", errors="replace") if body else ""
    return ShownRequest(method, _hide(url, secrets), shown_headers, _hide(text, secrets))


def _written_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as typed and as a request writes it (form- or URL-encoded, inside a JSON
    string), longest first so a longer form is hidden before a shorter one cuts into it."""
    forms = set()
    for secret in secrets:
        if isinstance(secret, str) and secret:
            forms.update(
                {
                    secret,
                    quote_plus(secret),
                    quote(secret, safe=""),
                    json.dumps(secret)[1:-1],
                    json.dumps(secret, ensure_ascii=False)[1:-1],
                }
            )
    return sorted(forms, key=len, reverse=True)


def _hide(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text
