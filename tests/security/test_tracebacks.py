"""Finding 9 of issue 11: an error report (the technical 500 page, the error e-mail to the
ADMINS) showed saved passwords: the posted form and the local variables of every frame were in
it. Views that receive secrets now mark their POST sensitive, and every function that holds
decrypted or typed secrets its variables (SPEC §8). Django applies these marks only when
DEBUG is off; smshub.reports applies them with DEBUG on too (the finding was a DEBUG page)."""

from __future__ import annotations

import sys

import pytest
import requests
from django.core.cache import cache
from django.core.signals import got_request_exception
from django.test import Client
from django.views.debug import technical_500_response

from providers import services
from tests.providers.helpers import create_generic, generic_data

BASE = "/settings/channels/sms/providers/"
FORM = "application/x-www-form-urlencoded"
SAVED_PASSWORD = "saved-basic-Pass-41"
SAVED_KEY = "saved-api-Key-42"
TYPED_PASSWORD = "typed-basic-Pass-43"
TYPED_KEY = "typed-api-Key-44"
SECRETS = (SAVED_PASSWORD, SAVED_KEY, TYPED_PASSWORD, TYPED_KEY)
CLEANSED = "********************"


class Boom(Exception):
    """The forced failure."""


@pytest.fixture(autouse=True, params=[False, True], ids=["production", "debug"])
def _reports(request, settings, db):
    settings.DEBUG = request.param
    cache.clear()


@pytest.fixture
def reports():
    """The technical 500 page of each failed request, as Django renders it for a report."""
    pages = []

    def render(sender, request, **kwargs):
        pages.append(technical_500_response(request, *sys.exc_info()).content.decode())

    got_request_exception.connect(render)
    yield pages
    got_request_exception.disconnect(render)


@pytest.fixture
def client(admin_user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


@pytest.fixture
def provider(httpserver):
    return create_generic(
        None,
        endpoint=httpserver.url_for("/sms"),
        auth_type="basic",
        basic_username="acme",
        basic_password=SAVED_PASSWORD,
        headers=[("X-Api-Key", SAVED_KEY, True)],
    )


def posted(httpserver, **fields):
    return generic_data(
        endpoint=httpserver.url_for("/sms"),
        auth_type="basic",
        basic_username="acme",
        basic_password=TYPED_PASSWORD,
        headers=[("X-Api-Key", "", True), ("X-New-Key", TYPED_KEY, True)],
        **fields,
    )


def fail(*args, **kwargs):
    raise Boom("forced")


def assert_no_secret_in(page: str) -> None:
    assert "Boom" in page  # the report is the real one
    for secret in SECRETS:
        assert secret not in page
    assert CLEANSED in page


def test_a_failed_save_reports_no_secret(client, reports, provider, httpserver, monkeypatch):
    monkeypatch.setattr(services, "ensure_a_default", fail)  # after the secrets were merged

    response = client.post(
        f"{BASE}{provider.pk}/", posted(httpserver).urlencode(), content_type=FORM
    )

    assert response.status_code == 500
    (page,) = reports
    assert "save_from_form" in page
    assert_no_secret_in(page)
    assert "basic_password</td>" in page and f"&#x27;{CLEANSED}&#x27;" in page


def test_a_failed_test_sms_from_the_form_reports_no_secret(
    client, reports, provider, httpserver, monkeypatch
):
    monkeypatch.setattr(requests.Session, "send", fail)  # under the outbound seam
    data = posted(httpserver, _action="test-sms")
    data.update({"test-country_code": "+1", "test-mobile_number": "4155550123"})
    data["test-message"] = "Hi"

    response = client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert response.status_code == 500
    (page,) = reports
    assert "exchange" in page
    assert_no_secret_in(page)


def test_a_failed_test_sms_of_a_saved_provider_reports_no_secret(
    client, reports, provider, monkeypatch
):
    monkeypatch.setattr(requests.Session, "send", fail)
    dialog = {"test-country_code": "+1", "test-mobile_number": "4155550123", "test-message": "Hi"}

    response = client.post(f"{BASE}{provider.pk}/test-sms/", dialog)

    assert response.status_code == 500
    (page,) = reports
    assert "send_test_sms" in page
    assert_no_secret_in(page)


def test_a_failed_add_reports_no_posted_secret(client, reports, httpserver, monkeypatch):
    monkeypatch.setattr(services, "ensure_a_default", fail)
    data = posted(httpserver)
    data.setlist("headers-key", ["X-New-Key"])
    data.setlist("headers-value", [TYPED_KEY])
    data.setlist("headers-secret", ["0"])

    response = client.post(f"{BASE}add/generic/", data.urlencode(), content_type=FORM)

    assert response.status_code == 500
    (page,) = reports
    assert_no_secret_in(page)


def test_a_failed_login_reports_no_password(reports, db, monkeypatch):
    from django.contrib.auth import forms

    monkeypatch.setattr(forms.AuthenticationForm, "clean", fail)

    response = Client(raise_request_exception=False).post(
        "/accounts/login/", {"username": "alice", "password": TYPED_PASSWORD}
    )

    assert response.status_code == 500
    (page,) = reports
    assert "Boom" in page
    assert TYPED_PASSWORD not in page
    assert CLEANSED in page
