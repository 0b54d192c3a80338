"""The role boundary swept over the whole URL map (SPEC §0, §8): a marketer requests every
URL (pages, htmx fragments, exports, POST actions) with providers whose endpoints, headers,
parameters, credentials, tokens and raw answers hold unique marker strings, after real sends
failed and paused a campaign and real callbacks arrived; no marker may show anywhere.

A URL added to the map without a request here fails `test_every_url_is_swept`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from audiences.models import Audience
from callbacks.models import CallbackRequest
from campaigns import links
from campaigns.models import Campaign, CampaignStatus, Message
from providers import message_ids
from tests.audiences.helpers import run as run_import
from tests.campaigns.helpers import run, sending_campaign
from tests.providers.helpers import create_generic, create_twilio
from tests.rollups import settle

FORM = "application/x-www-form-urlencoded"
TWILIO_SID = "AC" + "5eca11ed" * 4
MARKERS = [
    "mk-path-7f3a",
    "mk-apikey-7f3b",
    "mk-user-7f3c",
    "mk-password-7f3d",
    "mk-header-7f3e",
    "mk-hkey-7f3f",
    "mk-json-7f40",
    "mk-answer-7f41",
    "mk-oauth-host-7f42",
    "mk-client-7f43",
    "mk-secret-7f44",
    "mk-extra-7f45",
    "mk-param-7f46",
    "mk-secret-row-7f4a",
    "mk-secret-param-7f4b",
    "mk-get-host-7f47",
    "mk-twilio-token-7f48",
    "MG" + "7f49" * 8,
    TWILIO_SID,
]


@dataclass
class Scene:
    providers: list
    campaigns: list
    audience: Audience
    import_id: int
    callback_request_id: int
    link_code: str
    markers: list[str] = field(default_factory=list)


def failing_generic(httpserver):
    httpserver.expect_request("/mk-path-7f3a").respond_with_data("mk-answer-7f41", status=500)
    return create_generic(
        None,
        nickname="Acme",
        endpoint=httpserver.url_for("/mk-path-7f3a") + "?apikey=mk-apikey-7f3b",
        auth_type="basic",
        basic_username="mk-user-7f3c",
        basic_password="mk-password-7f3d",
        headers=[
            ("X-Account", "mk-header-7f3e"),
            ("X-Api-Key", "mk-hkey-7f3f"),
            ("X-Secret", "mk-secret-row-7f4a", True),
        ],
        json_body='{"to": "$$To", "text": "$$Body", "ref": "$$MessageID", '
        '"sender": "mk-json-7f40"}',
    )


def oauth_generic():
    return create_generic(
        None,
        nickname="Beta",
        request_type="GET",
        endpoint="https://mk-get-host-7f47.example/send",
        auth_type="oauth2",
        oauth_client_url="https://mk-oauth-host-7f42.example/token",
        oauth_client_id="mk-client-7f43",
        oauth_secret_key="mk-secret-7f44",
        oauth_extra=[("audience", "mk-extra-7f45")],
        params=[
            ("to", "$$To"),
            ("text", "$$Body"),
            ("apikey", "mk-param-7f46"),
            ("token", "mk-secret-param-7f4b", True),
        ],
    )


def post_callback(provider, messages) -> None:
    payload = [
        {"event": "delivered", "data": [{"ts": 1_700_000_000, "meta": message_ids.sign(m.id)}]}
        for m in messages
    ]
    Client().post(
        f"/callbacks/sms/{provider.callback_token}/",
        json.dumps(payload),
        content_type="application/json",
    )


@pytest.fixture
def scene(db, httpserver, settings, tmp_path) -> Scene:
    settings.AUTO_PAUSE_WINDOW = 4
    settings.DISPATCH_GROUP_SIZE = 4
    settings.MEDIA_ROOT = tmp_path / "media"
    acme = failing_generic(httpserver)
    beta = oauth_generic()
    twilio = create_twilio(
        nickname="Gamma",
        account_sid=TWILIO_SID,
        auth_token="mk-twilio-token-7f48",
        service_sid="MG" + "7f49" * 8,
    )
    job = run_import("phone,first_name\n+14155550101,Ann\nnot-a-number,=HYPERLINK(1)\n")
    audience = job.audience
    paused = sending_campaign(acme, 4, body="Hi https://shop.example/sale")
    run(paused)  # 500 with the marker answer on every attempt: auto-paused
    paused.refresh_from_db()
    assert paused.status == CampaignStatus.PAUSED
    delivered = sending_campaign(beta, 2, body="Hello")
    Message.objects.filter(campaign=delivered).update(
        state="sent", sent_at=timezone.now(), next_attempt_at=None
    )
    settle()
    post_callback(beta, Message.objects.filter(campaign=delivered))
    draft = Campaign.objects.create(
        name="Draft", provider=twilio, audience=audience, body="Hi {first_name}"
    )
    first = Message.objects.filter(campaign=paused).order_by("id").first()
    return Scene(
        providers=[acme, beta, twilio],
        campaigns=[paused, delivered, draft],
        audience=audience,
        import_id=job.pk,
        callback_request_id=CallbackRequest.objects.latest("id").pk,
        link_code=links.encode(first.id, 0),
        markers=[
            *MARKERS,
            *(p.callback_token for p in (acme, beta, twilio)),
            acme.config["endpoint"],
        ],
    )


def url_names() -> Iterator[tuple[str, str]]:
    """(name, route) of every URL of the map."""

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                yield namespace + pattern.name, prefix + str(pattern.pattern)

    yield from walk(get_resolver().url_patterns, "/", "")


def requests_for(scene: Scene) -> dict[str, list[tuple[str, str, dict]]]:
    """URL name → the (method, path, data) requests a marketer makes of it."""
    requests: dict[str, list[tuple[str, str, dict]]] = {}
    for name, route in url_names():
        for path in paths_of(route, scene):
            requests.setdefault(name, [])
            requests[name] += [("GET", path, {}), ("POST", path, post_data(name, scene))]
            if name in {"overview", "stats:campaign", "stats:provider"}:
                requests[name].append(("GET", path + "?format=csv", {}))
            if name == "campaigns:detail":
                requests[name].append(("GET", path + "?part=progress", {}))
            if name in {"campaign-events", "provider-events"}:
                requests[name].append(("GET", path + "?type=delivered", {}))
    return requests


def paths_of(route: str, scene: Scene) -> list[str]:
    """The route with its parameters filled in every way the scene allows."""
    fills = {
        "<int:pk>": [],
        "<str:token>": [p.callback_token for p in scene.providers],
        "<str:code>": [scene.link_code],
        "<str:kind>": ["generic", "twilio"],
        "<slug:slug>": ["infobip", "no-such-preset"],
    }
    if "campaigns/" in route:
        fills["<int:pk>"] = [str(c.pk) for c in scene.campaigns]
    elif "providers/" in route:
        fills["<int:pk>"] = [str(p.pk) for p in scene.providers]
    elif "imports/" in route:
        fills["<int:pk>"] = [str(scene.import_id)]
    elif "audiences/" in route:
        fills["<int:pk>"] = [str(scene.audience.pk)]
    elif "callbacks/" in route:
        fills["<int:pk>"] = [str(scene.callback_request_id)]
    paths = [route]
    for placeholder, values in fills.items():
        if placeholder in route:
            paths = [p.replace(placeholder, v) for p in paths for v in values]
    return paths


def post_data(name: str, scene: Scene) -> dict:
    if name == "campaigns:send-test":
        return {"number": "+14155550199"}
    if name == "campaigns:counter":
        return {"body": "Hi {first_name}", "audience": str(scene.audience.pk)}
    return {}


def content_of(response) -> str:
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return headers + "\n" + body.decode("utf-8", errors="replace")


def test_every_url_is_swept(scene):
    assert set(requests_for(scene)) == {name for name, _ in url_names()}


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_marketer_sees_no_provider_internals_anywhere(
    marketer_client, marketer_user, scene, htmx
):
    headers = {"HX-Request": "true"} if htmx else {}
    leaks = []
    for name, requests in requests_for(scene).items():
        for method, path, data in requests:
            marketer_client.force_login(marketer_user)  # the sweep posts to logout too
            if method == "GET":
                response = marketer_client.get(path, headers=headers)
            else:
                response = marketer_client.post(path, data, headers=headers)
            assert response.status_code < 500, (method, path)
            if name not in {"login", "logout"}:
                assert "/accounts/login/" not in response.get("Location", ""), (method, path)
            text = content_of(response)
            leaks += [(name, method, path, m) for m in scene.markers if m in text]
    assert leaks == []


def test_a_marketer_is_refused_every_provider_setup_url(marketer_client, scene):
    """Provider pages, presets included, are for admins only: 403, or 404 for what is not."""
    answers = {
        (method, path): marketer_client.generic(
            method, path, data=urlencode(data), content_type=FORM
        )
        for name, requests in requests_for(scene).items()
        if name.startswith("providers:")
        for method, path, data in requests
    }
    assert ("GET", "/settings/channels/sms/providers/add/preset/infobip/") in answers
    assert {
        key: r.status_code for key, r in answers.items() if r.status_code not in (403, 404)
    } == {}


def test_the_sweep_would_see_a_leak(admin_client, scene):
    """The same sweep as an admin finds the markers, so the marketer's clean run means
    something."""
    acme = scene.providers[0]
    page = content_of(admin_client.get(f"/settings/channels/sms/providers/{acme.pk}/"))
    assert "mk-header-7f3e" in page
    assert "mk-answer-7f41" in content_of(admin_client.get("/settings/channels/sms/providers/"))
