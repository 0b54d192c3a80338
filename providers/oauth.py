"""OAuth 2.0 client-credentials tokens for Generic providers (SPEC §3.4).

Tokens are cached in Django's cache (shared by every web and worker process) until shortly
before they expire; `invalidate` drops one after the provider answered 401.
"""

from __future__ import annotations

import hashlib

import requests
from django.core.cache import cache

from smshub import http, jsonsafe

EXPIRY_MARGIN = 60  # seconds before expiry when a token is no longer used
DEFAULT_LIFETIME = 3600


class OAuthError(Exception):
    """The token endpoint could not give a token."""


def _cache_key(client_url: str, client_id: str, secret: str) -> str:
    digest = hashlib.sha256(f"{client_url}\0{client_id}\0{secret}".encode()).hexdigest()
    return f"oauth-token:{digest}"


def token(config: dict, secret: str, *, session_key: str) -> str:
    """A valid access token, from the cache or freshly fetched."""
    key = _cache_key(config["oauth_client_url"], config["oauth_client_id"], secret)
    cached = cache.get(key)
    if cached:
        return cached
    access_token, lifetime = _fetch(config, secret, session_key=session_key)
    cache.set(key, access_token, timeout=max(1, lifetime - EXPIRY_MARGIN))
    return access_token


def invalidate(config: dict, secret: str) -> None:
    cache.delete(_cache_key(config["oauth_client_url"], config["oauth_client_id"], secret))


def _fetch(config: dict, secret: str, *, session_key: str) -> tuple[str, int]:
    form = {
        "grant_type": "client_credentials",
        "client_id": config["oauth_client_id"],
        "client_secret": secret,
    }
    form.update(dict(config.get("oauth_extra") or []))
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
