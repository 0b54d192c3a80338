"""Finding 6: deeply nested JSON (`[[[[…` 200,000 deep) answered 500 and was processed again
ten times. It is bad JSON like any other: 400 with SPEC §6.3's shape, stored as rejected,
never retried; a provider answering so is a failed send, not a crashed worker."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from callbacks import intake
from callbacks.models import CallbackRequest, RequestStatus
from callbacks.pages import shown_body
from providers import response_mapping
from providers.base import OutgoingMessage
from providers.kinds.twilio.sender import TwilioSender
from tests.providers.helpers import ACCOUNT_SID, create_generic, create_twilio, generic_config

from .helpers import send_one

DEEP = b"[" * 200_000 + b"]" * 200_000
DEEP_ANSWER = b"[" * 400_000  # within the answer size limit


@pytest.fixture
def provider(db):
    return create_generic(None, nickname="Acme", endpoint="https://api.example.com/sms")


def test_a_deeply_nested_callback_is_a_400_stored_as_rejected_and_never_retried(client, provider):
    response = client.post(
        f"/callbacks/sms/{provider.callback_token}/", DEEP, content_type="application/json"
    )

    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "error"
    assert answer["error_code"] == 400
    assert answer["message"] == (
        "Bad request. The body is not valid JSON: it is nested too deeply."
    )
    assert answer["details"]["missing_fields"] == []
    row = CallbackRequest.objects.get()
    assert (row.status, row.response_status, row.attempts) == (RequestStatus.REJECTED, 400, 1)
    assert intake.retry_failed() == 0


def test_an_admin_can_read_the_stored_deep_request(provider):
    shown = shown_body(DEEP)

    assert not shown.is_json
    assert shown.size == len(DEEP)


def test_a_deeply_nested_provider_answer_is_not_a_success_and_has_no_ids():
    deep = DEEP.decode()

    assert not response_mapping.is_success('$.status == "ok"', deep)
    assert response_mapping.provider_message_ids("$.id", deep, 1) == ()


def test_a_deeply_nested_twilio_answer_is_a_refusal_not_a_crash(db, httpserver, settings):
    settings.TWILIO_API_BASE = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    ).respond_with_data(DEEP_ANSWER, status=400, content_type="application/json")
    provider = create_twilio()
    sender = TwilioSender(
        provider.config, provider.get_secrets(), callback_url="http://cb/", session_key="deep"
    )
    (request,) = sender.requests([OutgoingMessage(1, "+14155550001", {"Body": "Hi"})])

    result = sender.send(request)

    assert (result.ok, result.status) == (False, 400)


def test_a_deeply_nested_oauth_token_answer_is_an_authentication_failure(db, httpserver):
    cache.clear()
    httpserver.expect_request("/token").respond_with_data(DEEP_ANSWER)
    config = generic_config(
        httpserver.url_for("/send"),
        auth_type="oauth2",
        oauth_client_url=httpserver.url_for("/token"),
        oauth_client_id="client-1",
    )

    result = send_one(config, "deep-oauth", {"oauth_secret_key": "s3"})

    assert result.auth_failed and not result.ok
    assert httpserver.log[-1][0].path == "/token"
