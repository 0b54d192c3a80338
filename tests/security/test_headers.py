"""Finding 11 (headers): no HSTS, no https redirect, no Content-Security-Policy. Over https the
hub now redirects http and sends HSTS; every page carries a CSP that allows only our own
assets (and the pages need nothing else: no inline script, style attribute or handler)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from smshub.checks import check_ssl_redirect_behind_a_proxy

ROOT = Path(__file__).resolve().parents[2]
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
ONE_YEAR = 365 * 24 * 3600


# --- on every answer ---------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/campaigns/", "/audiences/import/"])
def test_every_page_carries_the_policy_and_the_other_headers(marketer_client, url):
    response = marketer_client.get(url, follow=True)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_a_page_without_login_carries_the_policy_too(client, db):
    response = client.get("/accounts/login/")

    assert response["Content-Security-Policy"] == POLICY


def test_no_template_needs_an_inline_script_style_or_handler():
    """The policy refuses them: a page that has one is broken in the browser (the browser
    tests fail on any violation, this catches pages they do not visit)."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:|hx-on|hx-vals='js:",
        re.IGNORECASE,
    )
    templates = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]
    assert len(templates) > 40
    found = [
        f"{path.relative_to(ROOT)}: {match.group()}"
        for path in templates
        for match in inline.finditer(path.read_text())
    ]
    assert found == []


# --- https ---------------------------------------------------------------------------------------
def settings_for(site_url: str, **env: str) -> dict:
    """The security settings that smshub/settings.py derives, in a fresh interpreter."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "BEHIND_"))}
    code = (
        "import json, django; from django.conf import settings; django.setup(); print(json.dumps("
        "{n: getattr(settings, n, None) for n in ('SECURE_SSL_REDIRECT', 'SECURE_REDIRECT_EXEMPT',"
        " 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SESSION_COOKIE_SECURE',"
        " 'SECURE_PROXY_SSL_HEADER')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "smshub.settings", "SITE_URL": site_url, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_an_https_site_redirects_http_and_sends_hsts_for_a_year():
    assert settings_for("https://sms.example.com") == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": ["^healthz$"],
        "SECURE_HSTS_SECONDS": ONE_YEAR,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SESSION_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_an_http_site_does_neither():
    found = settings_for("http://127.0.0.1:8000")

    assert (found["SECURE_SSL_REDIRECT"], found["SECURE_HSTS_SECONDS"]) == (False, 0)


def test_the_environment_tunes_them():
    found = settings_for(
        "https://sms.example.com",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_SSL_REDIRECT="false",
        BEHIND_PROXY="true",
    )

    assert found["SECURE_HSTS_SECONDS"] == 600
    assert found["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert found["SECURE_SSL_REDIRECT"] is False
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.fixture
def https_site(settings):
    """The settings an https SITE_URL gives (see above), in this process."""
    settings.SITE_URL = "https://testserver"
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = ONE_YEAR
    return settings


def test_it_redirects_plain_http_to_https(client, db, https_site):
    response = client.get("/accounts/login/?next=/campaigns/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/?next=/campaigns/"
    assert "Strict-Transport-Security" not in response  # only ever sent over https


def test_it_sends_hsts_over_https(client, db, https_site):
    response = client.get("/accounts/login/", secure=True)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == f"max-age={ONE_YEAR}"


def test_behind_a_proxy_it_trusts_the_proxys_scheme(client, db, https_site):
    https_site.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    over_https = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    over_http = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "http"})

    assert over_https.status_code == 200
    assert over_https["Strict-Transport-Security"] == f"max-age={ONE_YEAR}"
    assert over_http.status_code == 301


def test_the_health_check_answers_over_plain_http(client, db, https_site):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_a_callback_posted_over_http_is_redirected_not_processed(client, db, https_site):
    response = client.post("/callbacks/sms/any-token-at-all/", "[]", content_type="text/json")

    assert response.status_code == 301


def test_it_warns_when_the_redirect_would_loop_behind_a_proxy(https_site):
    [warning] = check_ssl_redirect_behind_a_proxy(None)
    assert warning.id == "smshub.W005"
    assert "set BEHIND_PROXY=true" in warning.hint

    https_site.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert check_ssl_redirect_behind_a_proxy(None) == []


def test_a_refused_form_gets_the_sites_own_page_under_the_policy(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post("/campaigns/new/", {"name": "x"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "This form has expired" in html
    assert "<style" not in html
