"""Senders against a real local HTTP server standing in for the provider (SPEC §3.4, §3.5)."""

from __future__ import annotations

import base64
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug import Response

from providers.base import OutgoingMessage
from providers.kinds.generic.sender import GenericSender
from providers.kinds.twilio.sender import TwilioSender, status_callback
from providers.masking import MASK
from tests.providers.helpers import generic_config

BATCH_JSON = '{"hid": "$$hid", "msgs": [{"to": "$$To", "mid": "$$MessageID", "text": "$$Body"}]}'


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    from django.core.cache import cache

    cache.clear()


def messages(count, start=1):
    return [
        OutgoingMessage(
            id=i, to=f"+1415555{i:04d}", values={"Body": f"Hello {i}", "MessageID": f"m{i}"}
        )
        for i in range(start, start + count)
    ]


def sender(config, secrets=None, **campaign_values):
    return GenericSender(
        config, secrets or {}, campaign_values=campaign_values, session_key="test-provider"
    )


def send_all(the_sender, msgs):
    return [the_sender.send(request) for request in the_sender.requests(msgs)]


def test_it_posts_json_per_message(httpserver):
    httpserver.expect_ordered_request("/send", method="POST").respond_with_json({"ok": 1})
    httpserver.expect_ordered_request("/send", method="POST").respond_with_json({"ok": 1})

    results = send_all(sender(generic_config(httpserver.url_for("/send"))), messages(2))

    assert [r.ok for r in results] == [True, True]
    bodies = [json.loads(req.data) for req, _ in httpserver.log]
    assert bodies == [
        {"to": "+14155550001", "text": "Hello 1", "mid": "m1"},
        {"to": "+14155550002", "text": "Hello 2", "mid": "m2"},
    ]
    assert httpserver.log[0][0].headers["Content-Type"] == "application/json"


def test_it_sends_get_parameters_in_the_query(httpserver):
    httpserver.expect_request("/send", method="GET").respond_with_data("OK")
    config = generic_config(
        httpserver.url_for("/send"), request_type="GET", params=[["to", "$$To"], ["msg", "$$Body"]]
    )

    (result,) = send_all(sender(config), messages(1))

    assert result.ok
    request = httpserver.log[0][0]
    assert request.args.to_dict() == {"to": "+14155550001", "msg": "Hello 1"}
    assert request.data == b""


def test_it_posts_key_value_pairs_form_encoded(httpserver):
    httpserver.expect_request("/send", method="POST").respond_with_data("OK")
    config = generic_config(
        httpserver.url_for("/send"), body_format="kv", params=[["to", "$$To"], ["t", "$$Body"]]
    )

    send_all(sender(config), messages(1))

    request = httpserver.log[0][0]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form.to_dict() == {"to": "+14155550001", "t": "Hello 1"}


def test_it_batches_250_recipients_into_100_100_50_with_the_global_part_each_time(httpserver):
    httpserver.expect_request("/send", method="POST").respond_with_json({"accepted": True})
    config = generic_config(
        httpserver.url_for("/send"),
        json_body=BATCH_JSON,
        batching=True,
        batch_key="msgs",
        records_per_batch=100,
    )

    results = send_all(sender(config, hid="H-7"), messages(250))

    assert len(results) == 3 and all(r.ok for r in results)
    bodies = [json.loads(req.data) for req, _ in httpserver.log]
    assert [len(b["msgs"]) for b in bodies] == [100, 100, 50]
    assert {b["hid"] for b in bodies} == {"H-7"}
    assert [m["mid"] for b in bodies for m in b["msgs"]] == [f"m{i}" for i in range(1, 251)]


def test_it_uses_basic_authentication(httpserver):
    httpserver.expect_request("/send").respond_with_data("OK")
    config = generic_config(httpserver.url_for("/send"), auth_type="basic", basic_username="acme")

    (result,) = send_all(sender(config, {"basic_password": "pa55"}), messages(1))

    expected = "Basic " + base64.b64encode(b"acme:pa55").decode()
    assert httpserver.log[0][0].headers["Authorization"] == expected
    assert result.request.headers["Authorization"] == f"Basic {MASK} (username acme)"


def oauth_config(httpserver):
    return generic_config(
        httpserver.url_for("/send"),
        auth_type="oauth2",
        oauth_client_url=httpserver.url_for("/token"),
        oauth_client_id="client-1",
        oauth_extra=[["scope", "sms"]],
    )


def test_it_fetches_an_oauth_token_once_and_reuses_it(httpserver):
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"access_token": "tok-1", "expires_in": 3600}
    )
    httpserver.expect_request("/send").respond_with_data("OK")

    results = send_all(sender(oauth_config(httpserver), {"oauth_secret_key": "s3"}), messages(3))

    assert all(r.ok for r in results)
    paths = [req.path for req, _ in httpserver.log]
    assert paths == ["/token", "/send", "/send", "/send"]
    token_request = httpserver.log[0][0]
    assert token_request.form.to_dict() == {
        "grant_type": "client_credentials",
        "client_id": "client-1",
        "client_secret": "s3",
        "scope": "sms",
    }
    assert {req.headers["Authorization"] for req, _ in httpserver.log[1:]} == {"Bearer tok-1"}
    assert results[0].request.headers["Authorization"] == f"Bearer {MASK}"


def test_it_refreshes_the_token_once_after_a_401(httpserver):
    tokens = iter(["old", "new"])
    httpserver.expect_request("/token").respond_with_handler(
        lambda request: Response(json.dumps({"access_token": next(tokens)}), 200)
    )
    httpserver.expect_request("/send").respond_with_handler(
        lambda request: Response(
            "ok" if request.headers["Authorization"] == "Bearer new" else "expired",
            200 if request.headers["Authorization"] == "Bearer new" else 401,
        )
    )

    (result,) = send_all(sender(oauth_config(httpserver), {"oauth_secret_key": "s3"}), messages(1))

    assert result.ok
    assert [req.path for req, _ in httpserver.log] == ["/token", "/send", "/token", "/send"]


def test_it_reports_a_failing_token_endpoint_as_an_authentication_failure(httpserver):
    httpserver.expect_request("/token").respond_with_data("down", status=503)

    (result,) = send_all(sender(oauth_config(httpserver), {"oauth_secret_key": "s3"}), messages(1))

    assert not result.ok
    assert result.auth_failed and result.retryable
    assert result.error == "Authentication failing: token endpoint answered HTTP 503"
    assert [req.path for req, _ in httpserver.log] == ["/token"]


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (502, True), (503, True), (400, False), (404, False)]
)
def test_it_classifies_error_statuses(httpserver, status, retryable):
    httpserver.expect_request("/send").respond_with_data("nope: bad thing", status=status)

    (result,) = send_all(sender(generic_config(httpserver.url_for("/send"))), messages(1))

    assert (result.ok, result.status, result.retryable) == (False, status, retryable)
    assert result.error == f"HTTP {status}: nope: bad thing"
    assert result.body == "nope: bad thing"


def test_it_honours_retry_after_on_429(httpserver):
    httpserver.expect_request("/send").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )

    (result,) = send_all(sender(generic_config(httpserver.url_for("/send"))), messages(1))

    assert (result.retryable, result.retry_after) == (True, 7.0)


def test_it_treats_a_timeout_as_retryable(httpserver, settings):
    settings.HTTP_READ_TIMEOUT = 0.2
    answered = threading.Event()

    def slow(request):
        time.sleep(0.6)
        answered.set()
        return Response("late")

    httpserver.expect_request("/send").respond_with_handler(slow)

    (result,) = send_all(sender(generic_config(httpserver.url_for("/send"))), messages(1))

    assert not result.ok and result.retryable
    assert result.error.startswith("Request timed out")
    answered.wait(2)  # the server's late answer must not land in the next test's log


def test_it_treats_a_refused_connection_as_retryable(httpserver):
    config = generic_config("http://127.0.0.1:9/send")

    (result,) = send_all(sender(config), messages(1))

    assert not result.ok and result.retryable
    assert result.error.startswith("Request could not connect")


def test_it_refuses_private_addresses_when_guarded(httpserver, settings):
    settings.BLOCK_PRIVATE_ADDRESSES = True

    (result,) = send_all(sender(generic_config(httpserver.url_for("/send"))), messages(1))

    assert not result.ok and not result.retryable
    assert "private or local address" in result.error
    assert httpserver.log == []


def test_it_masks_secrets_wherever_they_appear_in_the_shown_request(httpserver):
    httpserver.expect_request("/send").respond_with_data("OK")
    config = generic_config(
        httpserver.url_for("/send"),
        headers=[["X-Api-Key", "k-123"], ["X-Trace", "t"]],
        auth_type="basic",
        basic_username="u",
        json_body='{"to": "$$To", "text": "$$Body", "pw": "pa55"}',
    )

    (result,) = send_all(sender(config, {"basic_password": "pa55"}), messages(1))

    shown = result.request
    assert shown.headers["X-Api-Key"] == MASK
    assert shown.headers["X-Trace"] == "t"
    assert "pa55" not in shown.body and MASK in shown.body


# --- response mapping ---------------------------------------------------------------------


def test_it_fails_a_200_answer_that_does_not_match_the_success_rule(httpserver):
    httpserver.expect_request("/send").respond_with_data(
        '{"status": "error", "reason": "bad"}', content_type="application/json"
    )
    config = generic_config(httpserver.url_for("/send"), success_rule='$.status == "ok"')

    (result,) = send_all(sender(config), messages(1))

    assert (result.ok, result.retryable, result.status) == (False, False, 200)
    assert result.error == (
        'Answer did not match the success rule: {"status": "error", "reason": "bad"}'
    )
    assert result.body == '{"status": "error", "reason": "bad"}'
    assert result.provider_message_ids == ()
    assert result.request is not None


def test_it_keeps_300_characters_of_an_answer_that_does_not_match(httpserver):
    body = "E" * 5000
    httpserver.expect_request("/send").respond_with_data(body)
    config = generic_config(httpserver.url_for("/send"), success_rule="^OK")

    (result,) = send_all(sender(config), messages(1))

    assert result.error == "Answer did not match the success rule: " + "E" * 300
    assert not result.ok and not result.retryable


def test_it_succeeds_when_the_answer_matches_the_success_rule(httpserver):
    httpserver.expect_request("/send").respond_with_json({"status": "ok", "id": 981})
    config = generic_config(
        httpserver.url_for("/send"), success_rule='$.status == "ok"', message_id_path="$.id"
    )

    (result,) = send_all(sender(config), messages(1))

    assert (result.ok, result.status, result.error) == (True, 200, "")
    assert result.provider_message_ids == ("981",)


@pytest.mark.parametrize(("answer", "ok"), [("OK queued=1", True), ("ERR no credit", False)])
def test_it_applies_a_regular_expression_rule_to_the_raw_answer(httpserver, answer, ok):
    httpserver.expect_request("/send").respond_with_data(answer)
    config = generic_config(httpserver.url_for("/send"), success_rule=r"^OK queued=\d+")

    (result,) = send_all(sender(config), messages(1))

    assert (result.ok, result.retryable, result.status) == (ok, False, 200)


def test_it_applies_the_rule_to_the_whole_answer_not_the_part_kept(httpserver):
    padding = "x" * 3000
    httpserver.expect_request("/send").respond_with_json(
        {"padding": padding, "status": "ok", "results": [{"id": "late-1"}]}
    )
    config = generic_config(
        httpserver.url_for("/send"),
        success_rule='$.status == "ok"',
        message_id_path="$.results[*].id",
    )

    (result,) = send_all(sender(config), messages(1))

    assert result.ok and result.provider_message_ids == ("late-1",)
    assert len(result.body) == 2000


def test_it_stores_the_provider_ids_of_a_batch_in_order(httpserver):
    httpserver.expect_request("/send").respond_with_json(
        {"results": [{"id": "p-3"}, {"id": "p-1"}, {"id": 2}]}
    )
    config = generic_config(
        httpserver.url_for("/send"),
        json_body=BATCH_JSON,
        batching=True,
        batch_key="msgs",
        records_per_batch=100,
        message_id_path="$.results[*].id",
    )

    (result,) = send_all(sender(config, hid="H"), messages(3))

    assert result.ok
    assert result.provider_message_ids == ("p-3", "p-1", "2")
    assert len(json.loads(httpserver.log[0][0].data)["msgs"]) == 3


def test_it_stores_no_provider_ids_when_a_batch_answer_has_fewer(httpserver):
    httpserver.expect_request("/send").respond_with_json({"results": [{"id": "only"}]})
    config = generic_config(
        httpserver.url_for("/send"),
        json_body=BATCH_JSON,
        batching=True,
        batch_key="msgs",
        records_per_batch=100,
        message_id_path="$.results[*].id",
    )

    (result,) = send_all(sender(config, hid="H"), messages(3))

    assert result.ok and result.provider_message_ids == ()


def test_it_does_not_apply_the_success_rule_to_an_error_status(httpserver):
    httpserver.expect_request("/send").respond_with_data('{"status": "ok"}', status=503)
    config = generic_config(
        httpserver.url_for("/send"), success_rule='$.status == "ok"', message_id_path="$.id"
    )

    (result,) = send_all(sender(config), messages(1))

    assert (result.ok, result.retryable) == (False, True)
    assert result.error == 'HTTP 503: {"status": "ok"}'


def test_it_reports_a_malformed_saved_rule_instead_of_crashing(httpserver):
    httpserver.expect_request("/send").respond_with_data("OK")
    config = generic_config(httpserver.url_for("/send"), success_rule="$..status")

    (result,) = send_all(sender(config), messages(1))

    assert (result.ok, result.retryable, result.status) == (False, False, 200)
    assert result.error.startswith("Response mapping is invalid: Unexpected '..status'")


# --- Twilio --------------------------------------------------------------------------------

SID = "AC" + "0123456789abcdef" * 2


def twilio(httpserver, settings, **config):
    settings.TWILIO_API_BASE = httpserver.url_for("").rstrip("/")
    return TwilioSender(
        {"account_sid": SID, "from_number": "+15005550006", "service_sid": "", **config},
        {"auth_token": "tw-token"},
        callback_url="http://hub.example/callbacks/sms/abc/",
        session_key="twilio-test",
    )


def test_it_sends_through_twilio_with_a_status_callback(httpserver, settings):
    path = f"/2010-04-01/Accounts/{SID}/Messages.json"
    httpserver.expect_request(path, method="POST").respond_with_json(
        {"sid": "SM123", "status": "queued"}, status=201
    )
    the_sender = twilio(httpserver, settings)

    (result,) = send_all(the_sender, messages(1))

    assert result.ok and result.provider_message_ids == ("SM123",)
    request = httpserver.log[0][0]
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{SID}:tw-token".encode()).decode()
    )
    assert request.form.to_dict() == {
        "To": "+14155550001",
        "From": "+15005550006",
        "Body": "Hello 1",
        "StatusCallback": "http://hub.example/callbacks/sms/abc/?meta=m1",
    }


def test_it_uses_the_messaging_service_instead_of_the_number(httpserver, settings):
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Messages.json").respond_with_json(
        {"sid": "SM9"}, status=201
    )

    send_all(twilio(httpserver, settings, service_sid="MG" + "f" * 32), messages(1))

    form = httpserver.log[0][0].form.to_dict()
    assert form["MessagingServiceSid"] == "MG" + "f" * 32
    assert "From" not in form


def test_it_turns_a_twilio_error_into_its_code_and_message(httpserver, settings):
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Messages.json").respond_with_json(
        {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}, status=400
    )

    (result,) = send_all(twilio(httpserver, settings), messages(1))

    assert not result.ok and not result.retryable
    assert result.error == "Twilio error 21211: The 'To' number is not valid."


def test_it_explains_a_trial_account_refusing_an_unverified_number(httpserver, settings):
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Messages.json").respond_with_json(
        {
            "code": 21608,
            "message": "The number +14155550001 is unverified. Trial accounts cannot send "
            "messages to unverified numbers.",
            "status": 400,
        },
        status=400,
    )

    (result,) = send_all(twilio(httpserver, settings), messages(1))

    assert result.error.startswith("Twilio error 21608: The number +14155550001 is unverified.")
    assert result.in_words == (
        "Refused by the provider: HTTP 400. The number is not verified: a Twilio trial account "
        "only sends to numbers verified in its Twilio dashboard."
    )


def test_other_twilio_refusals_have_no_explanation(httpserver, settings):
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Messages.json").respond_with_json(
        {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}, status=400
    )

    (result,) = send_all(twilio(httpserver, settings), messages(1))

    assert result.explanation == ""
    assert result.in_words == "Refused by the provider: HTTP 400."


def test_it_adds_meta_to_a_callback_url_that_has_a_query():
    url = status_callback("https://relay.example/twilio?customer=7", "tok")
    assert parse_qs(urlsplit(url).query) == {"customer": ["7"], "meta": ["tok"]}
