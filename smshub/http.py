"""The one seam for outbound HTTP to providers: timeouts, connection reuse, the SSRF guard
and the answer size limit.

Sessions are kept per thread and per key (a provider), so every worker reuses its
keep-alive connections to a provider instead of opening one per message.

The SSRF guard (BLOCK_PRIVATE_ADDRESSES) works when a connection is opened: the host is
resolved once, every address it resolves to must be a public one, and the socket connects
to those very addresses. A host that answers a public address to one lookup and a private
one to the next (DNS rebinding) cannot slip between the check and the connection. The
connection keeps the host name for the Host header, TLS SNI and the certificate check.
With the guard on, proxies from the environment are not used: a proxy would resolve the
host itself, past the guard.

Answers are read up to HTTP_MAX_ANSWER_BYTES; a larger one is dropped unread.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_CHUNK = 64 * 1024
_local = threading.local()


class OutboundError(Exception):
    """The request was refused or its answer could not be used (not a network error)."""


class OutboundBlocked(OutboundError):
    """The URL is not one we may call (not http(s), or a private address when guarded)."""


class AnswerTooLarge(OutboundError):
    """The provider answered more than HTTP_MAX_ANSWER_BYTES. The request did reach it."""

    def __init__(self, status: int, limit: int):
        self.status = status
        super().__init__(
            f"The answer (HTTP {status}) is larger than {limit:,} bytes "
            "(HTTP_MAX_ANSWER_BYTES) and was not read"
        )


# --- the address check ---------------------------------------------------------------------


def is_forbidden(address: Address) -> bool:
    """True for anything but a public unicast address: private, loopback, link-local (cloud
    metadata included), CGNAT, unspecified, multicast, reserved, documentation ranges, and
    IPv6 forms of such an IPv4 address (IPv4-mapped, NAT64, 6to4)."""
    if isinstance(address, ipaddress.IPv6Address):
        ipv4 = address.ipv4_mapped or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
        )
        if ipv4 is not None:  # the IPv4 address is the one actually reached
            return is_forbidden(ipv4)
        if address.sixtofour is not None and is_forbidden(address.sixtofour):
            return True
    return not address.is_global or address.is_multicast or address.is_reserved


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to, in the resolver's order (raises socket.gaierror)."""
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    # Link-local IPv6 answers carry a "%scope"; they are refused anyway.
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))


def allowed_addresses(host: str, port: int) -> list[Address]:
    """The addresses of `host`, all of them public, or OutboundBlocked."""
    addresses = resolve(host, port)
    for address in addresses:
        if is_forbidden(address):
            raise OutboundBlocked(f"{host} resolves to {address}, a private or local address")
    return addresses


def check_url(url: str) -> None:
    """Refuse what is not http(s), and, with the guard on, a host that resolves to a private
    address now (an early, clear error; the connection checks again, and that check is the
    one that counts)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundBlocked(f"only http(s) URLs may be called, not {url!r}")
    if settings.BLOCK_PRIVATE_ADDRESSES:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        # A name that does not resolve is left to the connection: a network error, retried.
        with contextlib.suppress(socket.gaierror):
            allowed_addresses(parts.hostname, port)


# --- connections that connect to the addresses checked -------------------------------------


class _GuardedConnection:
    """A urllib3 connection that, with the guard on, resolves its host once, checks every
    address and connects to one of them (in order, like urllib3 does), instead of letting
    the socket layer resolve the name again. `host` is untouched: Host header, SNI and the
    certificate check use the name."""

    def _new_conn(self) -> socket.socket:
        if not settings.BLOCK_PRIVATE_ADDRESSES:
            return super()._new_conn()
        name = self._dns_host
        try:
            addresses = allowed_addresses(name, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        failure: Exception | None = None
        for address in addresses:
            self._dns_host = str(address)
            try:
                return super()._new_conn()
            except (ConnectTimeoutError, NewConnectionError) as exc:
                failure = exc
            finally:
                self._dns_host = name
        raise failure


class _GuardedHTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }

    def send(self, request, **kwargs):
        if settings.BLOCK_PRIVATE_ADDRESSES:
            kwargs["proxies"] = {}  # a proxy would resolve the host itself, past the guard
        return super().send(request, **kwargs)


class _Session(requests.Session):
    """A session whose connections go through the guard, and that reads the environment's
    proxy and CA settings once per host, not on every request: requests scans the whole
    environment each time (a tenth of the cost of a small request to a fast provider). A
    process's environment does not change."""

    def __init__(self):
        super().__init__()
        self.mount("http://", _GuardedAdapter())
        self.mount("https://", _GuardedAdapter())
        self._environment: dict[tuple[str, str], dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        host = urlsplit(url)[:2]
        if host not in self._environment:
            self._environment[host] = super().merge_environment_settings(url, {}, None, None, None)
        merged = dict(self._environment[host])
        if stream is not None:
            merged["stream"] = stream
        return merged


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
    """Send one request with the configured timeouts and return its answer, read whole
    (`.text`, `.json()` work) unless larger than HTTP_MAX_ANSWER_BYTES: AnswerTooLarge.
    Redirects are not followed (a provider that redirects is misconfigured, and following
    could leave the guard)."""
    check_url(url)
    response = session(key).request(
        method,
        url,
        headers=headers,
        data=data,
        auth=auth,
        timeout=(settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT),
        allow_redirects=False,
        stream=True,
    )
    return _read(response, settings.HTTP_MAX_ANSWER_BYTES)


def _read(response: requests.Response, limit: int) -> requests.Response:
    """Load the answer into `response`, or drop the connection once it passes `limit`."""
    declared = response.headers.get("Content-Length", "")
    if not (declared.isdigit() and int(declared) > limit):
        body = bytearray()
        for chunk in response.iter_content(_CHUNK):
            body += chunk
            if len(body) > limit:
                break
        else:
            response._content = bytes(body)
            return response
    response.close()
    raise AnswerTooLarge(response.status_code, limit)
