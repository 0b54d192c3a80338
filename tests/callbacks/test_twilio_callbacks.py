"""Twilio callbacks end to end through the endpoint (SPEC §6.6): form posts signed the way
Twilio signs them, computed here independently of the code under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from audiences.models import OptOut
from callbacks.models import CallbackRequest, Event, RequestStatus
from campaigns.models import Campaign, Message
from providers import message_ids
from tests.callbacks import sent_message
from tests.providers.helpers import TWILIO_DEFAULTS, create_twilio
from tests.rollups import settle

AUTH_TOKEN = TWILIO_DEFAULTS["auth_token"]
SID = "SM" + "0123456789abcdef" * 2
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
FORBIDDEN = {
    "status": "error",
    "message": "Forbidden: the X-Twilio-Signature does not match.",
    "error_code": 403,
}


@pytest.fixture
def provider(db):
    return create_twilio(None)


@pytest.fixture
def message(provider):
    return sent_message(provider)


def meta(message) -> str:
    return message_ids.sign(message.id)


def status_url(provider, message=None) -> str:
    """The StatusCallback URL Twilio calls: our callback URL with `meta` in its query."""
    base = f"http://testserver/callbacks/sms/{provider.callback_token}/"
    return f"{base}?{urlencode({'meta': meta(message)})}" if message else base


def sign(url: str, form: dict, token: str = AUTH_TOKEN) -> str:
    """The signature Twilio sends, computed by Twilio's own helper library (a client no one
    here wrote), so our validation is checked against the real thing."""
    return RequestValidator(token).compute_signature(url, form)


def status_form(status: str, **fields) -> dict:
    return {
        "SmsSid": SID,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": "+14155550001",
        "MessageSid": SID,
        "AccountSid": TWILIO_DEFAULTS["account_sid"],
        "From": "+14155550123",
        "ApiVersion": "2010-04-01",
        **fields,
    }


def inbound_form(sender: str, body: str, sid: str = "SM" + "f" * 32) -> dict:
    return {
        "ToCountry": "US",
        "SmsSid": sid,
        "FromCountry": "US",
        "SmsStatus": "received",
        "Body": body,
        "To": "+14155550123",
        "MessageSid": sid,
        "AccountSid": TWILIO_DEFAULTS["account_sid"],
        "From": sender,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }


def twilio_posts(client, url: str, form: dict, signature: str | None = "", **extra):
    """Post `form` to `url` as Twilio does; the signature is Twilio's over `url` unless one
    is given (None: no header at all)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if signature == "":
        signature = sign(url, form)
    if signature is not None:
        extra["HTTP_X_TWILIO_SIGNATURE"] = signature
    return client.post(
        path, urlencode(form), content_type="application/x-www-form-urlencoded", **extra
    )


def test_it_records_a_delivered_status_callback(client, provider, message):
    before = timezone.now()
    response = twilio_posts(client, status_url(provider, message), status_form("delivered"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["status"], body["message"]) == ("success", "Callback processed successfully")
    assert body["data"]["processed_events"] == 1
    assert (body["data"]["duplicate_events"], body["data"]["unmatched_events"]) == (0, 0)
    event = Event.objects.get()
    assert (event.type, event.message_id, event.campaign_id, event.meta) == (
        "delivered",
        message.id,
        message.campaign_id,
        meta(message),
    )
    assert event.properties == {"status": "delivered", "sid": SID}
    assert before <= event.ts <= timezone.now()  # no RawDlrDoneDate: the time of receipt
    message.refresh_from_db()
    assert (message.outcome, message.outcome_at) == ("delivered", event.ts)
    request = CallbackRequest.objects.get()
    assert (request.status, request.response_status, request.content_type) == (
        RequestStatus.PROCESSED,
        200,
        "application/x-www-form-urlencoded",
    )


def test_it_reads_the_legacy_sms_status_alone(client, provider, message):
    form = status_form("delivered")
    del form["MessageStatus"], form["MessageSid"]

    assert twilio_posts(client, status_url(provider, message), form).status_code == 200

    assert Event.objects.get().properties == {"status": "delivered", "sid": SID}


def test_it_records_undelivered_with_the_description_of_the_twilio_code(client, provider, message):
    form = status_form("undelivered", ErrorCode="30003", ErrorMessage="Unreachable handset")

    assert twilio_posts(client, status_url(provider, message), form).status_code == 200

    event = Event.objects.get()
    assert (event.type, event.code, event.description) == (
        "failed",
        "30003",
        "Unreachable destination handset",
    )
    assert event.properties == {"status": "undelivered", "sid": SID}
    message.refresh_from_db()
    assert message.outcome == "failed"


def test_it_keeps_the_error_message_sent_with_an_unknown_code(client, provider, message):
    form = status_form("failed", ErrorCode="63016", ErrorMessage="Outside the allowed window")

    twilio_posts(client, status_url(provider, message), form)

    event = Event.objects.get()
    assert (event.type, event.code, event.description) == (
        "failed",
        "63016",
        "Outside the allowed window",
    )


def test_it_records_intermediate_statuses_without_touching_the_outcome(client, provider, message):
    url = status_url(provider, message)
    for status in ("queued", "sent"):
        response = twilio_posts(client, url, status_form(status))
        assert response.json()["data"]["processed_events"] == 1

    message.refresh_from_db()
    assert message.outcome == ""
    events = Event.objects.order_by("id")
    assert [(e.type, e.message_id, e.properties["status"]) for e in events] == [
        ("status", message.id, "queued"),
        ("status", message.id, "sent"),
    ]

    form = status_form("delivered", RawDlrDoneDate="2311241530")
    twilio_posts(client, url, form)
    twilio_posts(client, url, status_form("sent", SmsSid="SMlate", MessageSid="SMlate"))

    message.refresh_from_db()
    assert (message.outcome, message.outcome_at) == (
        "delivered",
        datetime(2023, 11, 24, 15, 30, tzinfo=UTC),
    )
    assert Event.objects.filter(type="status").count() == 3  # the late one is kept


def test_it_reads_the_carrier_done_date(client, provider, message):
    form = status_form("delivered", RawDlrDoneDate="2311241530")

    twilio_posts(client, status_url(provider, message), form)

    expected = datetime(2023, 11, 24, 15, 30, tzinfo=UTC)
    assert Event.objects.get().ts == expected
    message.refresh_from_db()
    assert message.outcome_at == expected


@pytest.mark.parametrize("done", ["2313241530", "2302301530", "231124153", "2311241530x", ""])
def test_it_falls_back_to_the_receipt_time_for_a_bad_done_date(client, provider, message, done):
    form = status_form("delivered", RawDlrDoneDate=done)
    before = timezone.now()

    assert twilio_posts(client, status_url(provider, message), form).status_code == 200

    assert before <= Event.objects.get().ts <= timezone.now()


def test_it_takes_meta_from_a_relayed_field_without_a_signature(client, message):
    provider = message.provider
    provider.config["custom_callback_url"] = "https://relay.example.com/twilio"
    provider.save()
    form = {**status_form("delivered"), "meta": meta(message)}

    response = twilio_posts(client, status_url(provider), form, signature=None)

    assert response.status_code == 200
    assert response.json()["data"]["unmatched_events"] == 0
    assert Event.objects.get().message_id == message.id
    message.refresh_from_db()
    assert message.outcome == "delivered"


def test_it_accepts_a_custom_url_provider_created_through_the_form(client, db):
    provider = create_twilio(None, callback_url="https://relay.example.com/twilio")
    campaign = Campaign.objects.create(name="Relay", provider=provider, body="Hi")
    message = Message.objects.create(campaign=campaign, provider=provider, to="+14155550002")
    form = {**status_form("delivered"), "meta": meta(message)}

    response = twilio_posts(client, status_url(provider), form, signature="whatever")

    assert response.status_code == 200
    assert Event.objects.get().message_id == message.id


def test_it_stores_a_status_callback_without_meta_unmatched(client, provider, message):
    response = twilio_posts(client, status_url(provider), status_form("delivered"))

    assert response.json()["data"]["unmatched_events"] == 1
    assert Event.objects.get().message_id is None
    message.refresh_from_db()
    assert message.outcome == ""


def test_it_refuses_a_missing_signature_and_records_nothing(client, provider, message):
    response = twilio_posts(
        client, status_url(provider, message), status_form("delivered"), signature=None
    )

    assert response.status_code == 403
    assert response.json() == {
        "status": "error",
        "message": "Forbidden: the X-Twilio-Signature header is missing.",
        "error_code": 403,
    }
    assert Event.objects.count() == 0
    message.refresh_from_db()
    assert message.outcome == ""
    request = CallbackRequest.objects.get()  # kept for the admin's request list
    assert (request.status, request.response_status) == (RequestStatus.REJECTED, 403)


def test_it_refuses_a_wrong_signature(client, provider, message):
    url = status_url(provider, message)
    delivered = status_form("delivered")
    failed = status_form("failed", ErrorCode="30003")
    wrong = [
        sign(url, delivered, token="another-auth-token"),
        sign(url, delivered),  # the signature of another request, replayed on this one
        sign(status_url(provider), failed),  # signed without our query: meta swapped in
        sign(url.replace("http://", "https://evil."), failed),
    ]

    for signature in wrong:
        response = twilio_posts(client, url, failed, signature=signature)
        assert response.status_code == 403
        assert response.json() == FORBIDDEN

    assert Event.objects.count() == 0
    assert CallbackRequest.objects.filter(response_status=403).count() == 4


def test_it_refuses_when_the_auth_token_cannot_be_decrypted(client, provider, message, settings):
    settings.ENCRYPTION_KEYS = ["Z1Tn9jtV2aZ7rQ0wqMnUDx8nE4dgtq6h9b5sYlqkJzE="]

    response = twilio_posts(client, status_url(provider, message), status_form("delivered"))

    assert response.status_code == 403
    assert "cannot be decrypted" in response.json()["message"]
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "signed",
    [
        "https://hub.example.com/callbacks/sms/{token}/?{query}",
        "https://hub.example.com:443/callbacks/sms/{token}/?{query}",
    ],
)
def test_it_checks_the_signature_of_the_public_url_behind_a_proxy(
    client, provider, message, settings, signed
):
    settings.SITE_URL = "https://hub.example.com"
    query = urlencode({"meta": meta(message)})
    public = signed.format(token=provider.callback_token, query=query)
    form = status_form("delivered")
    path = f"/callbacks/sms/{provider.callback_token}/?{query}"

    # Django sees plain HTTP from the proxy, under another host name.
    response = client.post(
        path,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        HTTP_HOST="localhost",
        HTTP_X_TWILIO_SIGNATURE=sign(public, form),
    )

    assert response.status_code == 200
    assert CallbackRequest.objects.get().url == f"http://localhost{path}"
    message.refresh_from_db()
    assert message.outcome == "delivered"


def test_it_checks_the_signature_of_the_url_django_saw_without_site_url(
    client, provider, message, settings
):
    settings.SITE_URL = "http://127.0.0.1:8000"  # the default, left unset in this deployment
    url = status_url(provider, message).replace("http://testserver", "https://testserver")

    response = twilio_posts(client, url, status_form("delivered"), secure=True)

    assert response.status_code == 200
    assert Event.objects.get().message_id == message.id


def test_it_matches_an_inbound_reply_to_the_latest_message_sent_to_the_sender(
    client, provider, message
):
    later = Message.objects.create(
        campaign=Campaign.objects.create(name="Summer", provider=provider, body="Hi"),
        provider=provider,
        to=message.to,
        state="sent",
        sent_at=timezone.now() - timedelta(minutes=5),
    )
    Message.objects.create(
        campaign=later.campaign,
        provider=provider,
        to="+14155550002",
        state="sent",
        sent_at=timezone.now(),
    )
    settle()
    form = inbound_form("+1 415 555 0001", "  Thanks! " + "x" * 600)

    response = twilio_posts(client, status_url(provider), form)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert response.content.decode() == TWIML
    event = Event.objects.get()
    assert (event.type, event.message_id, event.campaign_id, event.meta) == (
        "replied",
        later.id,
        later.campaign_id,
        "",
    )
    assert event.text == ("Thanks! " + "x" * 600)[:512]
    assert event.phone == "+14155550001"
    assert event.properties == {"status": "received", "sid": "SM" + "f" * 32}
    request = CallbackRequest.objects.get()
    assert (request.processed_events, request.unmatched_events) == (1, 0)


def test_it_stores_replies_from_old_or_unknown_numbers_unmatched(client, provider, message):
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(days=8))
    settle()
    url = status_url(provider)

    senders = ("+14155550001", "+14155550999", "72345")  # too old, unknown, a short code
    for position, sender in enumerate(senders):
        form = inbound_form(sender, "Hello?", sid=f"SM{position:032d}")
        response = twilio_posts(client, url, form)
        assert response.status_code == 200
        assert response.content.decode() == TWIML

    assert list(Event.objects.order_by("id").values_list("message_id", "phone")) == [
        (None, "+14155550001"),
        (None, "+14155550999"),
        (None, "72345"),
    ]
    assert list(CallbackRequest.objects.values_list("unmatched_events", flat=True)) == [1, 1, 1]


def test_it_answers_twiml_to_a_relayed_message_with_a_body_and_no_status(client, message):
    provider = message.provider
    provider.config["custom_callback_url"] = "https://relay.example.com/twilio"
    provider.save()
    form = {"MessageSid": SID, "From": message.to, "To": "+14155550123", "Body": "Sure"}

    response = twilio_posts(client, status_url(provider), form, signature=None)

    assert (response.status_code, response["Content-Type"]) == (200, "text/xml")
    assert response.content.decode() == TWIML
    event = Event.objects.get()
    assert (event.type, event.text, event.message_id) == ("replied", "Sure", message.id)


def test_it_opts_out_a_number_that_replies_stop(client, provider, message):
    twilio_posts(client, status_url(provider), inbound_form(message.to, " Stop "))

    assert OptOut.objects.filter(phone=message.to).exists()
    assert Event.objects.get().message_id == message.id


@pytest.mark.parametrize(
    ("form", "with_meta"),
    [
        (status_form("delivered"), True),
        (status_form("delivered", RawDlrDoneDate="2311241530"), True),
        (status_form("sent"), True),
        (inbound_form("+14155550001", "Yes"), False),
    ],
    ids=["delivered", "delivered-with-done-date", "sent", "inbound"],
)
def test_it_counts_the_same_callback_twice_once(client, provider, message, form, with_meta):
    url = status_url(provider, message if with_meta else None)

    first = twilio_posts(client, url, form)
    again = twilio_posts(client, url, form)

    assert (first.status_code, again.status_code) == (200, 200)
    assert Event.objects.count() == 1
    requests = CallbackRequest.objects.order_by("id")
    assert [(r.processed_events, r.duplicate_events) for r in requests] == [(1, 0), (1, 1)]


@pytest.mark.parametrize(
    ("form", "missing"),
    [
        ({"MessageSid": SID, "To": "+14155550001"}, ["MessageStatus"]),
        ({"MessageStatus": "delivered"}, ["MessageSid"]),
        ({"MessageStatus": "received", "MessageSid": SID, "Body": "Hi"}, ["From"]),
    ],
)
def test_it_refuses_a_callback_missing_a_mandatory_field(client, provider, message, form, missing):
    response = twilio_posts(client, status_url(provider, message), form)

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Bad request. Some mandatory parameter was missing."
    assert body["details"]["missing_fields"] == missing
    assert Event.objects.count() == 0


def test_it_refuses_a_callback_that_is_not_form_encoded(client, provider, message):
    url = status_url(provider, message)
    path = urlsplit(url).path + "?" + urlsplit(url).query

    response = client.post(
        path, '{"MessageStatus": "delivered"}', content_type="application/json",
        HTTP_X_TWILIO_SIGNATURE=sign(url, {}),
    )  # fmt: skip

    assert response.status_code == 400
    assert "form-encoded" in response.json()["message"]
    assert Event.objects.count() == 0
