"""Finding 11 (answers): provider and OAuth answers were read whole, whatever their size.

They are now read up to HTTP_MAX_ANSWER_BYTES. A larger answer is dropped unread and fails
that request only. The request did reach the provider, which may have taken the message, so
it is not sent again: the message ends Dispatch Error (outcome unknown), which a later
delivery report can still prove sent."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from werkzeug import Response

from campaigns.models import DispatchReason, Message, MessageState
from smshub import http
from tests.campaigns.helpers import make_due, numbers, run, sending_campaign
from tests.providers.helpers import create_generic, generic_config

from .helpers import send_one

FIVE_MB = 5 * 1024 * 1024
TOO_LARGE = (
    "The answer (HTTP 200) is larger than 1,000,000 bytes (HTTP_MAX_ANSWER_BYTES) and was not read"
)


def streamed(size: int) -> Response:
    """An answer of `size` bytes sent in pieces, without a Content-Length."""
    piece = b"x" * 65536
    return Response((piece for _ in range(size // len(piece))), content_type="text/plain")


def test_a_5_mb_answer_is_refused_and_not_sent_again(httpserver, session_key):
    httpserver.expect_request("/send").respond_with_data("x" * FIVE_MB)

    result = send_one(generic_config(httpserver.url_for("/send")), session_key)

    assert not result.ok and not result.retryable and result.outcome_unknown
    assert (result.status, result.error) == (200, TOO_LARGE)


def test_an_answer_without_a_length_stops_being_read_at_the_limit(httpserver, session_key):
    httpserver.expect_request("/send").respond_with_handler(lambda request: streamed(FIVE_MB))

    result = send_one(generic_config(httpserver.url_for("/send")), session_key)

    assert (result.ok, result.outcome_unknown, result.error) == (False, True, TOO_LARGE)


@pytest.mark.parametrize("chunked", [False, True])
def test_an_answer_of_exactly_the_limit_is_read(httpserver, settings, session_key, chunked):
    settings.HTTP_MAX_ANSWER_BYTES = 65536 * 2
    if chunked:
        httpserver.expect_ordered_request("/send").respond_with_handler(
            lambda request: streamed(65536 * 2)
        )
        httpserver.expect_ordered_request("/send").respond_with_handler(
            lambda request: streamed(65536 * 3)
        )
    else:
        httpserver.expect_ordered_request("/send").respond_with_data("x" * 65536 * 2)
        httpserver.expect_ordered_request("/send").respond_with_data("x" * (65536 * 2 + 1))
    config = generic_config(httpserver.url_for("/send"))

    read = send_one(config, session_key)
    refused = send_one(config, session_key)

    assert read.ok and read.body == "x" * 2000  # what an admin is shown of it
    assert not refused.ok and "larger than 131,072 bytes" in refused.error


def test_only_the_message_answered_too_much_fails_in_its_campaign(httpserver, db):
    """Three messages sent one by one; the provider answers the second with 5 MB."""

    def answer(request):
        if json.loads(request.get_data())["to"] == numbers(2)[1]:
            return Response("x" * FIVE_MB)
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/sms").respond_with_handler(answer)
    campaign = sending_campaign(create_generic(endpoint=httpserver.url_for("/sms")), 3)

    run(campaign)
    make_due(campaign)
    run(campaign)

    first, second, third = Message.objects.filter(campaign=campaign).order_by("id")
    assert first.state == third.state == MessageState.SENT
    assert (second.state, second.reason) == (
        MessageState.DISPATCH_ERROR,
        DispatchReason.OUTCOME_UNKNOWN,
    )
    assert second.next_attempt_at is None and second.last_error == TOO_LARGE
    assert len(httpserver.log) == 3  # not sent again


def test_an_oversized_oauth_token_answer_is_an_authentication_failure(httpserver, session_key, db):
    cache.clear()
    httpserver.expect_request("/token").respond_with_data("x" * FIVE_MB)
    config = generic_config(
        httpserver.url_for("/send"),
        auth_type="oauth2",
        oauth_client_url=httpserver.url_for("/token"),
        oauth_client_id="client-1",
    )

    result = send_one(config, session_key, {"oauth_secret_key": "s3"})

    assert result.auth_failed and not result.ok
    assert result.error == (
        "Authentication failing: token endpoint answer unusable: "
        "The answer (HTTP 200) is larger than 1,000,000 bytes (HTTP_MAX_ANSWER_BYTES) "
        "and was not read"
    )
    assert [request.path for request, _ in httpserver.log] == ["/token"]


def test_the_session_works_again_after_an_oversized_answer(httpserver, session_key):
    httpserver.expect_ordered_request("/big").respond_with_data("x" * FIVE_MB)
    httpserver.expect_ordered_request("/small").respond_with_json({"ok": True})

    with pytest.raises(http.AnswerTooLarge):
        http.request("GET", httpserver.url_for("/big"), key=session_key)
    response = http.request("GET", httpserver.url_for("/small"), key=session_key)

    assert response.json() == {"ok": True}
