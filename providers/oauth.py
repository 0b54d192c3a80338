"""OAuth 2.0 client-credentials tokens for Generic providers (SPEC §3.4).

Tokens are cached in Django's cache (shared by every web and worker process) until shortly
before they expire; `invalidate` drops one after the provider answered 401.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import requests
from django.core.cache import cache
from django.views.decorators.debug import sensitive_variables

from smshub import http, jsonsafe

from . import secret_rows

EXPIRY_MARGIN = 60  # seconds before expiry when a token is no longer used
DEFAULT_LIFETIME = 3600


class OAuthError(Exception):
    """The token endpoint could not give a token."""


@sensitive_variables()
def _cache_key(config: Mapping, secrets: Mapping[str, str]) -> str:
    """One token per client and credentials: a changed secret or extra pair asks anew."""
    sent = [config["oauth_client_url"], config["oauth_client_id"], *_form(config, secrets).items()]
    digest = hashlib.sha256(json.dumps(sent).encode()).hexdigest()
    return f"oauth-token:{digest}"


@sensitive_variables()
def token(config: Mapping, secrets: Mapping[str, str], *, session_key: str) -> str:
    """A valid access token, from the cache or freshly fetched. `secrets` are the provider's
    decrypted secrets: its secret key and any secret extra pair."""
    key = _cache_key(config, secrets)
    cached = cache.get(key)
    if cached:
        return cached
    access_token, lifetime = _fetch(config, secrets, session_key=session_key)
    cache.set(key, access_token, timeout=max(1, lifetime - EXPIRY_MARGIN))
    return access_token


@sensitive_variables()
def invalidate(config: Mapping, secrets: Mapping[str, str]) -> None:
    cache.delete(_cache_key(config, secrets))


@sensitive_variables()
def _form(config: Mapping, secrets: Mapping[str, str]) -> dict[str, str]:
    """The token request's fields; secret extra pairs are filled in from the secrets."""
    form = {
        "grant_type": "client_credentials",
        "client_id": config["oauth_client_id"],
        "client_secret": secrets.get("oauth_secret_key", ""),
    }
    try:
        form.update((r.key, r.value) for r in secret_rows.resolved(config, secrets, "oauth_extra"))
    except secret_rows.MissingSecretValue as exc:
        raise OAuthError(str(exc)) from exc
    return form


@sensitive_variables()
def _fetch(config: Mapping, secrets: Mapping[str, str], *, session_key: str) -> tuple[str, int]:
    form = _form(config, secrets)
    try:
        response = http.request(
            "POST",
            config["oauth_client_url"],
            key=session_key,
            data=form,
            headers={"Accept": "application/json"},
        )
    except (requests.RequestException, http.OutboundBlocked) as exc:
        raise OAuthError(f"token endpoint unreachable: {exc}") from exc
    except http.AnswerTooLarge as exc:
        raise OAuthError(f"token endpoint answer unusable: {exc}") from exc
    if response.status_code != 200:
        raise OAuthError(f"token endpoint answered HTTP {response.status_code}")
    try:
        payload = jsonsafe.loads(response.content)
        access_token = payload["access_token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise OAuthError("token endpoint answered without an access_token") from exc
    try:
        lifetime = int(payload.get("expires_in") or DEFAULT_LIFETIME)
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME
    return str(access_token), lifetime
