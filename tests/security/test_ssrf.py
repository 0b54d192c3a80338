"""Finding 3: the SSRF guard. It checked the address of a first lookup and let `requests` look
the name up again to connect (DNS rebinding passed it), it was off by default even without
DEBUG, and OAuth token URLs and Twilio were not proven to be covered.

The guard now checks the addresses it connects to, when each connection is opened."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.cache import cache
from django.core.checks.registry import registry
from pytest_httpserver import HTTPServer

from benchmarks.stub_provider import StubProvider
from campaigns.models import DispatchReason, Message, MessageState
from providers.base import OutgoingMessage
from providers.kinds.twilio.sender import TwilioSender
from smshub import http
from smshub.checks import check_ssrf_guard
from tests.campaigns.helpers import run, sending_campaign
from tests.providers.helpers import ACCOUNT_SID, create_generic, generic_config

from .helpers import send_one

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "93.184.216.34"  # never connected to: each test ends before, or refuses it


@pytest.fixture
def guarded(settings):
    settings.BLOCK_PRIVATE_ADDRESSES = True


@pytest.fixture
def loopback_allowed(guarded, monkeypatch):
    """The guard on, 127.0.0.1 alone let through (the local test servers live there)."""
    strict = http.is_forbidden
    monkeypatch.setattr(
        http, "is_forbidden", lambda address: str(address) != "127.0.0.1" and strict(address)
    )


def url_at(server: HTTPServer, name: str, path: str = "/send") -> str:
    return f"{server.url_for(path).split('://')[0]}://{name}:{server.port}{path}"


# --- DNS rebinding ----------------------------------------------------------------------------


def test_a_name_that_turns_private_after_the_check_is_refused(
    httpserver, dns, guarded, session_key
):
    dns.answer("provider.test", [PUBLIC], ["127.0.0.1"])
    httpserver.expect_request("/send").respond_with_json({"ok": True})

    result = send_one(generic_config(url_at(httpserver, "provider.test")), session_key)

    assert httpserver.log == []
    assert not result.ok and not result.retryable and result.status is None
    assert result.error == "provider.test resolves to 127.0.0.1, a private or local address"


def test_a_name_with_a_public_and_a_private_address_is_refused(
    httpserver, dns, guarded, session_key
):
    dns.answer("provider.test", [PUBLIC, "127.0.0.1"])

    result = send_one(generic_config(url_at(httpserver, "provider.test")), session_key)

    assert httpserver.log == []
    assert "resolves to 127.0.0.1, a private or local address" in result.error


def test_a_campaign_message_to_a_rebinding_name_is_a_dispatch_error_and_nothing_is_sent(
    httpserver, dns, guarded, db
):
    dns.answer("provider.test", [PUBLIC], ["127.0.0.1"])
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    campaign = sending_campaign(
        create_generic(endpoint=url_at(httpserver, "provider.test", "/sms"))
    )

    run(campaign)

    assert httpserver.log == []
    message = Message.objects.get(campaign=campaign)
    assert (message.state, message.reason) == (MessageState.DISPATCH_ERROR, DispatchReason.BLOCKED)
    assert "resolves to 127.0.0.1" in message.last_error


# --- OAuth token URLs and Twilio go through the same guard ------------------------------------


def test_an_oauth_token_url_that_rebinds_to_a_private_address_is_refused(
    httpserver, dns, guarded, session_key, db
):
    cache.clear()
    dns.answer("tokens.test", [PUBLIC], ["127.0.0.1"])
    dns.answer("provider.test", [PUBLIC])
    httpserver.expect_request("/token").respond_with_json({"access_token": "t", "expires_in": 60})
    config = generic_config(
        url_at(httpserver, "provider.test"),
        auth_type="oauth2",
        oauth_client_url=url_at(httpserver, "tokens.test", "/token"),
        oauth_client_id="client-1",
    )

    result = send_one(config, session_key, {"oauth_secret_key": "s3"})

    assert httpserver.log == []
    assert result.auth_failed and not result.ok
    assert "tokens.test resolves to 127.0.0.1, a private or local address" in result.error
    assert dns.lookups == ["tokens.test", "tokens.test"]  # the endpoint is never called


def test_twilio_is_refused_when_its_api_rebinds_to_a_private_address(
    httpserver, dns, guarded, session_key, settings
):
    dns.answer("twilio.test", [PUBLIC], ["127.0.0.1"])
    settings.TWILIO_API_BASE = f"http://twilio.test:{httpserver.port}"
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    ).respond_with_json({"sid": "SM1"}, status=201)
    sender = TwilioSender(
        {"account_sid": ACCOUNT_SID, "from_number": "+14155550123"},
        {"auth_token": "tok"},
        callback_url="https://hub.example/callbacks/sms/x/",
        session_key=session_key,
    )
    message = OutgoingMessage(id=1, to="+14155550001", values={"Body": "Hi", "MessageID": "m1"})
    (request,) = sender.requests([message])

    result = sender.send(request)

    assert httpserver.log == []
    assert not result.ok and not result.retryable
    assert result.error == "twilio.test resolves to 127.0.0.1, a private or local address"


# --- the connection goes to the address checked, under the host's name ------------------------


def test_the_connection_goes_to_the_address_checked_with_the_hosts_name(
    httpserver, dns, loopback_allowed, session_key
):
    # A third lookup (anyone resolving the name again to connect) would get 127.0.0.2, where
    # nothing listens.
    dns.answer("provider.test", ["127.0.0.1"], ["127.0.0.1"], ["127.0.0.2"])
    httpserver.expect_request("/send").respond_with_json({"ok": True})

    result = send_one(generic_config(url_at(httpserver, "provider.test")), session_key)

    assert result.ok, result.error
    assert dns.lookups == ["provider.test", "provider.test"]  # the early check, the connection
    (request, _), *_ = httpserver.log
    assert request.headers["Host"] == f"provider.test:{httpserver.port}"


def test_guarded_connections_are_kept_alive(dns, loopback_allowed, session_key):
    stub = StubProvider()
    dns.answer("provider.test", ["127.0.0.1"])
    try:
        for _ in range(3):
            response = http.request(
                "POST", stub.url.replace("127.0.0.1", "provider.test"), key=session_key, data=b"{}"
            )
            assert response.json() == {"accepted": True}
        assert (stub.requests, stub.connections) == (3, 1)
    finally:
        stub.close()


def test_proxies_from_the_environment_are_not_used_with_the_guard_on(
    httpserver, dns, loopback_allowed, session_key, monkeypatch
):
    # A proxy would resolve the name itself, past the guard; this one does not even listen.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    dns.answer("provider.test", ["127.0.0.1"])
    httpserver.expect_request("/send").respond_with_json({"ok": True})

    result = send_one(generic_config(url_at(httpserver, "provider.test")), session_key)

    assert result.ok, result.error
    assert len(httpserver.log) == 1


def _certificate(name: str, directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (its own trust anchor), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    """An https server holding a certificate for provider.test alone, trusted by requests;
    `server.names` lists the names clients asked for (SNI)."""
    cert, key = _certificate("provider.test", tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    server = HTTPServer(ssl_context=context)
    server.names = names
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def test_https_keeps_the_hosts_name_for_sni_and_the_certificate_check(
    tls_server, dns, loopback_allowed, session_key
):
    dns.answer("provider.test", ["127.0.0.1"])
    dns.answer("other.test", ["127.0.0.1"])
    tls_server.expect_request("/send").respond_with_json({"ok": True})

    result = send_one(generic_config(url_at(tls_server, "provider.test")), session_key)

    assert result.ok, result.error
    assert tls_server.names == ["provider.test"]
    assert tls_server.log[0][0].headers["Host"] == f"provider.test:{tls_server.port}"
    # The same address under a name the certificate does not hold: refused by the check.
    with pytest.raises(requests.exceptions.SSLError, match=r"other\.test"):
        http.request("POST", url_at(tls_server, "other.test"), key=session_key, data=b"{}")
    assert len(tls_server.log) == 1


# --- which addresses are refused --------------------------------------------------------------

FORBIDDEN = [
    "127.0.0.1",  # loopback
    "127.8.9.10",
    "10.0.0.1",  # private
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "169.254.169.254",  # cloud metadata (link-local)
    "169.254.1.1",
    "0.0.0.0",  # unspecified
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",  # IPv6 loopback
    "::",  # unspecified
    "fe80::1",  # link-local
    "fd00:ec2::254",  # AWS metadata (unique local)
    "fc00::1",
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:db8::1",  # documentation
]
ALLOWED = [
    "93.184.216.34",
    "8.8.8.8",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped public
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8 (IPv6-only hosts reaching IPv4 providers)
]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_it_refuses_non_public_addresses(address):
    assert http.is_forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_it_allows_public_addresses(address):
    assert not http.is_forbidden(ipaddress.ip_address(address))


def test_localhost_and_ip_literals_are_refused(guarded):
    for url in ("http://localhost:8000/", "https://[::1]/", "http://169.254.169.254/latest/"):
        with pytest.raises(http.OutboundBlocked, match="a private or local address"):
            http.check_url(url)


# --- on by default without DEBUG, and a warning when an operator turns it off -----------------

SHOW_GUARD = (
    "import environ; environ.Env.read_env = lambda *a, **k: None; "  # no .env of a developer
    "from smshub import settings; print(settings.BLOCK_PRIVATE_ADDRESSES)"
)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "True"),
        ({"DEBUG": "false"}, "True"),
        ({"DEBUG": "true"}, "False"),
        ({"BLOCK_PRIVATE_ADDRESSES": "false"}, "False"),
        ({"DEBUG": "true", "BLOCK_PRIVATE_ADDRESSES": "true"}, "True"),
    ],
)
def test_the_guard_is_on_by_default_unless_debug(environment, expected):
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "BLOCK_PRIVATE_ADDRESSES")}
    shown = subprocess.run(
        [sys.executable, "-c", SHOW_GUARD],
        cwd=ROOT,
        env={**base, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == expected


def ssrf_warnings():
    assert check_ssrf_guard in registry.get_checks()
    return [message for message in check_ssrf_guard(None) if message.id == "smshub.W010"]


def test_a_production_install_with_the_guard_off_gets_a_warning(settings):
    settings.DEBUG = False
    settings.BLOCK_PRIVATE_ADDRESSES = False
    settings.SITE_URL = "https://sms.example.com"

    (warning,) = ssrf_warnings()

    assert "BLOCK_PRIVATE_ADDRESSES is off" in warning.msg


@pytest.mark.parametrize(
    ("debug", "guard", "site_url"),
    [
        (False, True, "https://sms.example.com"),
        (True, False, "https://sms.example.com"),
        (False, False, "http://127.0.0.1:8000"),
        (False, False, "http://localhost:8000"),
        (False, False, "http://[::1]:8000"),
    ],
)
def test_no_warning_with_the_guard_on_in_debug_or_on_a_local_install(
    settings, debug, guard, site_url
):
    settings.DEBUG = debug
    settings.BLOCK_PRIVATE_ADDRESSES = guard
    settings.SITE_URL = site_url

    assert ssrf_warnings() == []
