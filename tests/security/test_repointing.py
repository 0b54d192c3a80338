"""Finding 10 of issue 11: an admin could point a saved provider at another host and press
Send Test SMS (or save): the saved password went there without being typed again. Now a new
scheme, host or port for the endpoint or the OAuth token URL needs every saved secret typed
again (SPEC §8); until then nothing is sent and nothing saved."""

from __future__ import annotations

import base64

import pytest
from django.core.cache import cache
from pytest_httpserver import HTTPServer

from providers.forms import origin
from providers.models import Provider
from tests.providers.helpers import create_generic, generic_data

BASE = "/settings/channels/sms/providers/"
FORM = "application/x-www-form-urlencoded"
PASSWORD = "old-basic-Pass-1"
API_KEY = "old-api-Key-2"
OAUTH_SECRET = "old-oauth-Secret-3"


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


@pytest.fixture
def new_host():
    """A second server: the host an admin re-points the provider to."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def basic(httpserver) -> Provider:
    return create_generic(
        None,
        endpoint=httpserver.url_for("/sms"),
        auth_type="basic",
        basic_username="acme",
        basic_password=PASSWORD,
        headers=[("X-Api-Key", API_KEY, True)],
    )


def edit(httpserver, **fields):
    endpoint = fields.pop("endpoint", None) or httpserver.url_for("/sms")
    return generic_data(
        endpoint=endpoint,
        auth_type="basic",
        basic_username="acme",
        headers=fields.pop("headers", [("X-Api-Key", "", True)]),
        **fields,
    )


def with_test_sms(data):
    data = data.copy()
    data["_action"] = "test-sms"
    data.update({"test-country_code": "+1", "test-mobile_number": "4155550123"})
    data["test-message"] = "Hi"
    return data


def no_request_carried_an_old_secret(*servers) -> bool:
    for server in servers:
        for request, _ in server.log:
            sent = repr(dict(request.headers)) + request.get_data(as_text=True) + request.url
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                sent += base64.b64decode(auth[6:]).decode()
            if any(secret in sent for secret in (PASSWORD, API_KEY, OAUTH_SECRET)):
                return False
    return True


def test_a_test_sms_to_a_new_host_asks_for_every_saved_secret(admin_client, httpserver, new_host):
    provider = basic(httpserver)
    data = with_test_sms(edit(httpserver, endpoint=new_host.url_for("/steal")))

    page = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    page = page.content.decode()
    assert "The endpoint moved to a new host: type the password again." in page
    assert "The endpoint moved to a new host: type the value of &#x27;X-Api-Key&#x27; again." in (
        page
    )
    assert new_host.log == []
    assert httpserver.log == []


def test_saving_a_new_host_asks_for_every_saved_secret(admin_client, httpserver, new_host):
    provider = basic(httpserver)
    data = edit(httpserver, endpoint=new_host.url_for("/sms"))

    response = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert response.status_code == 200
    assert "type the password again" in response.content.decode()
    saved = Provider.objects.get()
    assert saved.config == provider.config
    assert saved.get_secrets() == provider.get_secrets()


def test_the_secrets_typed_again_go_to_the_new_host(admin_client, httpserver, new_host):
    new_host.expect_request("/sms").respond_with_json({"ok": True})
    provider = basic(httpserver)
    data = edit(
        httpserver,
        endpoint=new_host.url_for("/sms"),
        basic_password="new-basic-Pass",
        headers=[("X-Api-Key", "new-api-Key", True)],
    )

    page = admin_client.post(
        f"{BASE}{provider.pk}/", with_test_sms(data).urlencode(), content_type=FORM
    )

    assert "The provider accepted the message" in page.content.decode()
    request = new_host.log[0][0]
    assert request.headers["X-Api-Key"] == "new-api-Key"
    assert request.authorization.password == "new-basic-Pass"
    assert no_request_carried_an_old_secret(new_host, httpserver)


def test_a_new_scheme_or_port_is_a_new_host_too(admin_client, httpserver):
    provider = basic(httpserver)
    url = httpserver.url_for("/sms")

    for moved in (url.replace("http://", "https://"), url.replace(f":{httpserver.port}", ":1")):
        data = with_test_sms(edit(httpserver, endpoint=moved))
        page = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)
        assert "type the password again" in page.content.decode()
    assert httpserver.log == []


def test_a_new_path_on_the_same_host_keeps_the_saved_secrets(admin_client, httpserver):
    httpserver.expect_request("/v2/sms").respond_with_json({"ok": True})
    provider = basic(httpserver)
    data = edit(httpserver, endpoint=httpserver.url_for("/v2/sms"))

    page = admin_client.post(
        f"{BASE}{provider.pk}/", with_test_sms(data).urlencode(), content_type=FORM
    )

    assert "The provider accepted the message" in page.content.decode()
    request = httpserver.log[0][0]
    assert request.authorization.password == PASSWORD
    assert request.headers["X-Api-Key"] == API_KEY


def test_a_new_oauth_token_host_asks_for_the_secret_key_again(admin_client, httpserver, new_host):
    provider = create_generic(
        None,
        endpoint=httpserver.url_for("/sms"),
        auth_type="oauth2",
        oauth_client_url=httpserver.url_for("/token"),
        oauth_client_id="client-1",
        oauth_secret_key=OAUTH_SECRET,
    )
    data = generic_data(
        endpoint=httpserver.url_for("/sms"),
        auth_type="oauth2",
        oauth_client_url=new_host.url_for("/token"),
        oauth_client_id="client-1",
    )

    page = admin_client.post(
        f"{BASE}{provider.pk}/", with_test_sms(data).urlencode(), content_type=FORM
    )

    assert (
        "The OAuth client URL moved to a new host: type the secret key again."
        in page.content.decode()
    )
    assert new_host.log == []
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://API.example.com/sms", ("https", "api.example.com", 443)),
        ("https://api.example.com:443/x", ("https", "api.example.com", 443)),
        ("http://api.example.com/", ("http", "api.example.com", 80)),
        ("http://10.0.0.1:8080/", ("http", "10.0.0.1", 8080)),
        ("http://[::1", None),
    ],
)
def test_a_host_is_its_scheme_name_and_port(url, expected):
    assert origin(url) == expected
