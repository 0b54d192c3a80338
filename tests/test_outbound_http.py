"""The outbound seam's sessions (smshub/http.py): the environment's proxy settings still
apply, read once per host instead of on every request."""

from __future__ import annotations

import requests

from smshub import http


def test_a_proxy_from_the_environment_is_used_and_read_once_per_host(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    session = http._Session()
    calls = []
    original = requests.Session.merge_environment_settings

    def counted(self, *args):
        calls.append(args[0])
        return original(self, *args)

    monkeypatch.setattr(requests.Session, "merge_environment_settings", counted)

    first = session.merge_environment_settings("https://sms.example/send", {}, None, None, None)
    again = session.merge_environment_settings("https://sms.example/other", {}, None, None, None)
    bypassed = session.merge_environment_settings(
        "https://internal.example/send", {}, None, None, None
    )

    assert first["proxies"]["https"] == "http://proxy.example:3128"
    assert again == first
    assert "https" not in bypassed["proxies"]
    assert calls == ["https://sms.example/send", "https://internal.example/send"]


def test_explicit_settings_are_never_cached(monkeypatch):
    session = http._Session()
    proxies = {"https": "http://other.example:8080"}
    settings = session.merge_environment_settings("https://sms.example/", proxies, None, None, None)

    assert settings["proxies"]["https"] == "http://other.example:8080"
    assert session._environment == {}
