"""System checks for settings that are fine in development and dangerous in production."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register
from django.core.checks import Warning as CheckWarning


@register()
def check_production_secrets(app_configs, **kwargs) -> list[Error]:
    if settings.DEBUG:
        return []
    errors = []
    if settings.SECRET_KEY == settings.INSECURE_SECRET_KEY:
        errors.append(
            Error(
                "SECRET_KEY is the development default while DEBUG is off.",
                hint="Set SECRET_KEY in the environment or .env (`make run` writes one).",
                id="smshub.E001",
            )
        )
    if not settings.ENCRYPTION_KEYS:
        errors.append(
            Error(
                "ENCRYPTION_KEYS is empty while DEBUG is off: provider credentials would be "
                "encrypted with a key derived from SECRET_KEY.",
                hint="Set ENCRYPTION_KEYS to a Fernet key "
                "(python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())').",
                id="smshub.E002",
            )
        )
    return errors


@register()
def check_ssrf_guard(app_configs, **kwargs) -> list[CheckWarning]:
    """The SSRF guard off on a production-like install (DEBUG off, served on a host that is
    not this machine's loopback): an admin could make the hub call internal addresses."""
    if settings.DEBUG or settings.BLOCK_PRIVATE_ADDRESSES or is_local_url(settings.SITE_URL):
        return []
    return [
        CheckWarning(
            "BLOCK_PRIVATE_ADDRESSES is off while DEBUG is off and SITE_URL is not a local "
            "address: provider URLs may reach private, loopback and cloud-metadata addresses.",
            hint="Remove BLOCK_PRIVATE_ADDRESSES=false from the environment or .env (the guard "
            "is on by default when DEBUG is off).",
            id="smshub.W010",
        )
    ]


def is_local_url(url: str) -> bool:
    """True when `url` points at this machine (localhost or a loopback address)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register()
def check_ssl_redirect_behind_a_proxy(app_configs, **kwargs) -> list[CheckWarning]:
    """Behind a proxy that terminates TLS, every request reaches us over http: unless we trust
    its X-Forwarded-Proto, the https redirect would send each one back to itself."""
    if not settings.SECURE_SSL_REDIRECT or getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return []
    return [
        CheckWarning(
            "SECURE_SSL_REDIRECT is on (SITE_URL is https) while BEHIND_PROXY is off.",
            hint="Behind a reverse proxy that terminates TLS, set BEHIND_PROXY=true (the proxy "
            "must set X-Forwarded-Proto), or every request is redirected to itself. When "
            "gunicorn serves TLS itself, this warning does not apply.",
            id="smshub.W005",
        )
    ]
