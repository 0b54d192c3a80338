"""post_callbacks: the sandbox's callbacks as the callback URL receives them (SPEC §3.6)."""

from __future__ import annotations

import pytest
import requests
from werkzeug import Response

from campaigns.compose import link_base
from providers import message_ids
from sandbox import reports, simulate, tasks
from sandbox.simulate import Submitted

from .helpers import sandbox_provider

RECEIVED_MS = 1_700_000_000_000


@pytest.fixture
def provider(db, settings, httpserver):
    """The sandbox provider, its callback URL pointing at the local server."""
    settings.SITE_URL = httpserver.url_for("").rstrip("/")
    return sandbox_provider()


def callback_path(provider) -> str:
    return f"/callbacks/sms/{provider.callback_token}/"


def messages(count: int) -> list[dict]:
    return [
        {"ref": message_ids.sign(i), "to": f"+1415555{i:04d}", "url": "https://shop.example"}
        for i in range(1, count + 1)
    ]


def expected_payloads(sent: list[dict]) -> list[list[dict]]:
    submitted = [Submitted(**m) for m in sent]
    return simulate.callback_payloads(submitted, RECEIVED_MS, link_base=link_base())


def run(provider, sent):
    return tasks.post_callbacks.apply(args=(provider.pk, sent, RECEIVED_MS))


def test_it_posts_the_exact_callbacks_to_the_callback_url(httpserver, provider):
    sent = messages(1200)
    first, second = expected_payloads(sent)
    for payload in (first, second):
        httpserver.expect_ordered_request(
            callback_path(provider),
            method="POST",
            json=payload,
            headers={"Content-Type": "application/json"},
        ).respond_with_json({"status": "success"})

    result = run(provider, sent)

    assert result.successful()
    httpserver.check_assertions()
    assert len(httpserver.log) == 2
    assert sum(len(group["data"]) for group in first) == 1000


def test_it_retries_after_a_503(httpserver, provider):
    sent = messages(3)
    [payload] = expected_payloads(sent)
    httpserver.expect_ordered_request(callback_path(provider), json=payload).respond_with_json(
        {"status": "error", "message": "Service Unavailable", "error_code": 503}, status=503
    )
    httpserver.expect_ordered_request(callback_path(provider), json=payload).respond_with_json(
        {"status": "success"}
    )

    result = run(provider, sent)

    assert result.successful()
    httpserver.check_assertions()
    assert [response.status_code for _, response in httpserver.log] == [503, 200]


def test_it_gives_up_after_five_retries(httpserver, provider):
    httpserver.expect_request(callback_path(provider)).respond_with_response(
        Response("down", status=500)
    )

    result = run(provider, messages(2))

    assert result.failed()
    assert isinstance(result.result, reports.TryAgain)
    assert len(httpserver.log) == 1 + tasks.MAX_RETRIES


def test_it_retries_after_a_connection_error(httpserver, provider, monkeypatch):
    real_request = reports.http.request
    failures = [requests.ConnectionError("connection refused")]

    def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real_request(*args, **kwargs)

    monkeypatch.setattr(reports.http, "request", flaky)
    httpserver.expect_request(callback_path(provider)).respond_with_json({"status": "success"})

    result = run(provider, messages(2))

    assert result.successful()
    assert len(httpserver.log) == 1


def test_it_does_not_retry_a_refusal(httpserver, provider):
    httpserver.expect_request(callback_path(provider)).respond_with_json(
        {"status": "error", "message": "Not Found", "error_code": 404}, status=404
    )

    result = run(provider, messages(1200))

    assert result.successful()
    assert len(httpserver.log) == 1


def test_it_posts_nothing_when_the_guard_refuses_local_addresses(httpserver, provider, settings):
    settings.BLOCK_PRIVATE_ADDRESSES = True

    result = run(provider, messages(2))

    assert result.successful()
    assert httpserver.log == []


def test_it_drops_the_callbacks_of_a_deleted_provider(httpserver, provider):
    provider_id = provider.pk
    provider.delete()

    result = tasks.post_callbacks.apply(args=(provider_id, messages(2), RECEIVED_MS))

    assert result.successful()
    assert httpserver.log == []
