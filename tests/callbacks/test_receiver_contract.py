"""Every provider kind's receiver through the same cases (callbacks/receivers/base.py): the
answers of SPEC §6.3, authentication, size limits, bad input and duplicates, end to end
through the callback endpoint. A bad request changes nothing and is kept as rejected."""

from __future__ import annotations

import pytest

from callbacks.models import CallbackRequest, Event, RequestStatus
from providers import registry
from tests.callbacks import sent_message

from .receiver_cases import CASES, Post


@pytest.fixture(autouse=True)
def toy_registered(monkeypatch, db):
    monkeypatch.setattr(
        registry, "KIND_CLASSES", (*registry.KIND_CLASSES, "tests.providers.toy.kind.ToyKind")
    )
    registry.kinds.cache_clear()
    yield
    registry.kinds.cache_clear()


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request):
    return request.param


@pytest.fixture
def provider(case):
    return case.provider()


@pytest.fixture
def message(provider):
    return sent_message(provider)


def posted(client, provider, post: Post, token: str | None = None):
    path = f"/callbacks/sms/{token or provider.callback_token}/"
    if post.query:
        path += f"?{post.query}"
    headers = {f"HTTP_{name.upper().replace('-', '_')}": v for name, v in post.headers.items()}
    return client.post(path, post.body, content_type=post.content_type, **headers)


def assert_nothing_recorded(message) -> None:
    assert not Event.objects.exists()
    message.refresh_from_db()
    assert message.outcome == ""


def test_a_delivered_report_is_recorded_once_and_answered(client, case, provider, message):
    response = posted(client, provider, case.delivered(provider, message))

    assert response.status_code == 200
    event = Event.objects.get()
    assert (event.type, event.message_id) == ("delivered", message.id)
    message.refresh_from_db()
    assert message.outcome == "delivered"
    row = CallbackRequest.objects.get()
    assert (row.status, row.response_status, row.processed_events) == (
        RequestStatus.PROCESSED,
        200,
        1,
    )
    if response["Content-Type"] == "application/json":
        body = response.json()
        assert (body["status"], body["message"]) == ("success", "Callback processed successfully")
        assert body["data"]["processed_events"] == 1


def test_the_same_report_twice_counts_once(client, case, provider, message):
    post = case.delivered(provider, message)
    posted(client, provider, post)

    again = posted(client, provider, post)

    assert again.status_code == 200
    assert Event.objects.count() == 1
    assert CallbackRequest.objects.order_by("id").last().duplicate_events == 1


def test_an_unknown_callback_url_is_not_found(client, case, provider, message):
    response = posted(client, provider, case.delivered(provider, message), token="x" * 43)

    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "Not Found", "error_code": 404}
    assert not CallbackRequest.objects.exists()


def test_other_methods_are_not_allowed(client, case, provider):
    response = client.put(f"/callbacks/sms/{provider.callback_token}/")

    assert response.status_code == 405
    assert response["Allow"] == ("GET, POST" if case.takes_get else "POST")
    assert response.json()["error_code"] == 405


def test_get_is_taken_only_by_receivers_that_read_the_query(client, case, provider):
    response = client.get(f"/callbacks/sms/{provider.callback_token}/")

    assert response.status_code == (400 if case.takes_get else 405)  # GET, but no report
    assert response.json()["status"] == "error"


def test_a_body_over_the_size_limit_is_refused(client, case, provider, message, settings):
    post = case.delivered(provider, message)
    settings.CALLBACK_MAX_BYTES = len(post.body) - 1

    response = posted(client, provider, post)

    assert response.status_code == 413
    assert response.json() == {"status": "error", "message": "Payload Too Large", "error_code": 413}
    assert_nothing_recorded(message)


# Generic callbacks are authenticated by the secret callback URL alone (the 404 case above).
@pytest.mark.parametrize(
    "case", [case for case in CASES if case.authenticates], ids=lambda case: case.name
)
def test_a_forged_report_is_refused_and_kept(client, case, provider, message):
    response = posted(client, provider, case.forged(provider, message))

    assert response.status_code == 403
    body = response.json()
    assert (body["status"], body["error_code"]) == ("error", 403)
    assert body["message"].startswith("Forbidden")
    assert_nothing_recorded(message)
    row = CallbackRequest.objects.get()
    assert (row.status, row.response_status) == (RequestStatus.REJECTED, 403)


def test_an_unreadable_body_is_a_bad_request(client, case, provider, message):
    response = posted(client, provider, case.unreadable(provider))

    assert response.status_code in (400, 403)  # a signed kind may refuse before reading
    body = response.json()
    assert (body["status"], body["error_code"]) == ("error", response.status_code)
    if response.status_code == 400:
        assert body["message"].startswith("Bad request.")
        assert isinstance(body["details"]["missing_fields"], list)
        assert isinstance(body["details"]["timestamp"], int)
    assert_nothing_recorded(message)
    assert CallbackRequest.objects.get().status == RequestStatus.REJECTED


def test_a_missing_mandatory_field_is_named(client, case, provider, message):
    response = posted(client, provider, case.without_mandatory_field(provider, message))

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Bad request. Some mandatory parameter was missing."
    assert case.missing_field in body["details"]["missing_fields"]
    assert_nothing_recorded(message)
