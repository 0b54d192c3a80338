"""Finding 1: a marketer's *Send a test* showed the admin's request (endpoint with its
query-string key, Basic username, custom headers, Twilio's Account SID and the StatusCallback
carrying the callback token) and a network error's raw text became a pause reason. Marketers
now read outcomes in words (SPEC §8); admins still see the request and the answer."""

from __future__ import annotations

import socket

import pytest

from campaigns.models import Campaign, CampaignStatus
from providers.base import Cause, SendResult
from tests.campaigns.helpers import run, sending_campaign
from tests.providers.helpers import ACCOUNT_SID, create_generic, create_twilio

KEY = "marker-query-key-0x51"
USER = "marker-basic-user-0x52"
HEADER = "marker-header-value-0x53"
ANSWER = "marker-raw-answer-0x54"


@pytest.fixture
def provider(httpserver):
    return create_generic(
        None,
        endpoint=httpserver.url_for("/sms") + f"?apikey={KEY}",
        auth_type="basic",
        basic_username=USER,
        basic_password="marker-password-0x55",
        headers=[("X-Account", HEADER)],
    )


def markers_of(provider) -> list[str]:
    return [KEY, USER, HEADER, ANSWER, provider.callback_token, provider.config["endpoint"]]


def send_test(client, campaign):
    return client.post(
        f"/campaigns/{campaign.pk}/test/", {"number": "+14155550199"}, HTTP_HX_REQUEST="true"
    ).content.decode()


@pytest.mark.parametrize(
    ("status", "words"),
    [(401, "Refused by the provider: HTTP 401."), (200, "The provider accepted the message")],
)
def test_a_marketer_reads_the_outcome_in_words_and_nothing_of_the_request(
    marketer_client, provider, httpserver, status, words
):
    httpserver.expect_request("/sms").respond_with_data(ANSWER, status=status)
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")

    html = send_test(marketer_client, campaign)

    assert len(httpserver.log) == 1  # it was really sent
    assert words in html
    for marker in markers_of(provider):
        assert marker not in html
    assert "Request sent" not in html


def test_an_admin_still_sees_the_request_and_the_answer(admin_client, provider, httpserver):
    httpserver.expect_request("/sms").respond_with_data(ANSWER, status=401)
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")

    html = send_test(admin_client, campaign)

    assert "Refused by the provider: HTTP 401." in html
    assert "Request and answer" in html
    assert f"X-Account: {HEADER}" in html
    assert ANSWER in html
    assert "marker-password-0x55" not in html  # masked, even for admins


def test_a_marketer_sees_no_twilio_account_or_callback_token(marketer_client, httpserver, settings):
    settings.TWILIO_API_BASE = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    ).respond_with_json(
        {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}, status=400
    )
    provider = create_twilio()
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")

    html = send_test(marketer_client, campaign)

    assert "StatusCallback" in httpserver.log[0][0].get_data(as_text=True)
    assert "Refused by the provider: HTTP 400." in html
    for marker in (ACCOUNT_SID, provider.callback_token, "StatusCallback", "21211"):
        assert marker not in html


UNVERIFIED = "The number +14155550199 is unverified. Trial accounts cannot send messages."
TRIAL_WORDS = "a Twilio trial account only sends to numbers verified in its Twilio dashboard"


@pytest.fixture
def unverified_twilio(httpserver, settings):
    settings.TWILIO_API_BASE = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    ).respond_with_json({"code": 21608, "message": UNVERIFIED, "status": 400}, status=400)
    return create_twilio()


def test_a_marketer_reads_a_twilio_trial_refusal_in_words_only(marketer_client, unverified_twilio):
    campaign = Campaign.objects.create(name="Spring", provider=unverified_twilio, body="Hi")

    html = send_test(marketer_client, campaign)

    assert "Refused by the provider: HTTP 400. The number is not verified: " + TRIAL_WORDS in html
    for marker in ("21608", UNVERIFIED, "Request and answer", ACCOUNT_SID):
        assert marker not in html


def test_an_admin_reads_the_trial_refusal_in_words_and_twilio_answer(
    admin_client, unverified_twilio
):
    campaign = Campaign.objects.create(name="Spring", provider=unverified_twilio, body="Hi")
    html = send_test(admin_client, campaign)
    assert TRIAL_WORDS in html and "Request and answer" in html and "21608" in html

    html = admin_client.post(
        f"/settings/channels/sms/providers/{unverified_twilio.pk}/test-sms/",
        {"test-country_code": "+1", "test-mobile_number": "415 555 0199", "test-message": "Hi"},
    ).content.decode()
    assert TRIAL_WORDS in html
    assert "Twilio error 21608" in html


def test_a_campaign_paused_by_trial_refusals_says_why_in_words(
    marketer_client, unverified_twilio, settings
):
    settings.AUTO_PAUSE_WINDOW = 4
    settings.DISPATCH_GROUP_SIZE = 4
    campaign = sending_campaign(unverified_twilio, 4)

    run(campaign)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    html = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert TRIAL_WORDS in html
    assert "21608" not in html


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_network_error_pauses_a_campaign_with_words_not_its_raw_text(marketer_client, settings):
    settings.AUTO_PAUSE_WINDOW = 4
    settings.DISPATCH_GROUP_SIZE = 4
    port = closed_port()
    provider = create_generic(None, endpoint=f"http://127.0.0.1:{port}/v1/send?apikey={KEY}")
    campaign = sending_campaign(provider, 4)

    run(campaign)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert campaign.pause_reason.endswith("Last outcome: Could not reach the provider.")
    html = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert "Could not reach the provider." in html
    for marker in (KEY, str(port), "127.0.0.1", "/v1/send", "Connection refused"):
        assert marker not in html


@pytest.mark.parametrize(
    ("result", "words"),
    [
        (SendResult(ok=True, status=200), "Accepted by the provider."),
        (
            SendResult(ok=False, status=503, error="HTTP 503: x"),
            "Refused by the provider: HTTP 503.",
        ),
        (
            SendResult(ok=False, status=200, error="Answer did not match the success rule: x"),
            "Refused by the provider: its answer (HTTP 200) did not report success.",
        ),
        (
            SendResult(ok=False, status=200, outcome_unknown=True, error="answer over 1 MB"),
            "Outcome unknown: the provider answered, but its answer was too large to read.",
        ),
        (
            SendResult(ok=False, error="Request timed out: host:443", cause=Cause.TIMEOUT),
            "Could not reach the provider: it did not answer in time.",
        ),
        (SendResult(ok=False, error="token endpoint", auth_failed=True), "credentials could not"),
        (SendResult(ok=False, error="10.0.0.1 is private", cause=Cause.BLOCKED), "not allowed"),
    ],
)
def test_every_outcome_has_words_that_name_nothing_of_the_request(result, words):
    assert words in result.in_words
    assert not result.error or result.error not in result.in_words
