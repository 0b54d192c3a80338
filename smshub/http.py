"""The one seam for outbound HTTP to providers: timeouts, connection reuse, SSRF guard.

Sessions are kept per thread and per key (a provider), so every worker reuses its
keep-alive connections to a provider instead of opening one per message.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from urllib.parse import urlsplit

import requests
from django.conf import settings

_local = threading.local()


class OutboundBlocked(Exception):
    """The URL is not one we may call (not http(s), or a private address when guarded)."""


class _Session(requests.Session):
    """A session that reads the environment's proxy and CA settings once per host, not on
    every request: requests scans the whole environment each time (a tenth of the cost of
    a small request to a fast provider). A process's environment does not change."""

    def __init__(self):
        super().__init__()
        self._environment: dict[tuple[str, str], dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        host = urlsplit(url)[:2]
        if host not in self._environment:
            self._environment[host] = super().merge_environment_settings(url, {}, None, None, None)
        return dict(self._environment[host])


def session(key: str) -> requests.Session:
    sessions = getattr(_local, "sessions", None)
    if sessions is None:
        sessions = _local.sessions = {}
    if key not in sessions:
        sessions[key] = _Session()
    return sessions[key]


def forget_session(key: str) -> None:
    """Drop a cached session (e.g. after the provider's settings changed)."""
    sessions = getattr(_local, "sessions", {})
    old = sessions.pop(key, None)
    if old is not None:
        old.close()


def request(
    method: str,
    url: str,
    *,
    key: str,
    headers: dict[str, str] | None = None,
    data: bytes | dict | None = None,
    auth: tuple[str, str] | None = None,
) -> requests.Response:
    """Send one request with the configured timeouts; redirects are not followed (a
    provider that redirects is misconfigured, and following could leave the guard)."""
    check_url(url)
    return session(key).request(
        method,
        url,
        headers=headers,
        data=data,
        auth=auth,
        timeout=(settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT),
        allow_redirects=False,
    )


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundBlocked(f"only http(s) URLs may be called, not {url!r}")
    if settings.BLOCK_PRIVATE_ADDRESSES:
        for address in _addresses(parts.hostname, parts.port):
            if not address.is_global:
                raise OutboundBlocked(
                    f"{parts.hostname} resolves to {address}, a private or local address"
                )


def _addresses(host: str, port: int | None) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise OutboundBlocked(f"cannot resolve {host}: {exc.strerror}") from exc
    return {ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos}
