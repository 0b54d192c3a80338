"""How each provider kind's callbacks look on the wire, for the shared receiver suite
(test_receiver_contract.py): one case per receiver, as django-anymail tests each ESP's
webhooks through the same cases. A new kind adds its case here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from providers import message_ids
from providers.kinds.generic import presets
from tests.providers.helpers import TWILIO_DEFAULTS, create_generic, create_twilio
from tests.providers.toy.receiver import signature as toy_signature

TWILIO_SID = "SM" + "0123456789abcdef" * 2


@dataclass
class Post:
    """One request to our callback URL: body, content type, query and extra headers."""

    body: bytes
    content_type: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class GenericCase:
    """SPEC §6.2's JSON; authenticated by the secret callback URL alone."""

    takes_get = False
    name = "generic"
    authenticates = False
    missing_field = "description"

    def provider(self):
        return create_generic(None)

    def delivered(self, provider, message) -> Post:
        record = {"ts": 1_790_000_000, "meta": message_ids.sign(message.id), "description": "ok"}
        return self._post([{"event": "delivered", "data": [record]}])

    def without_mandatory_field(self, provider, message) -> Post:
        record = {"ts": 1_790_000_000, "meta": message_ids.sign(message.id)}
        return self._post([{"event": "delivered", "data": [record]}])

    def unreadable(self, provider) -> Post:
        return Post(b'{"event": "delivered", "data": [', "application/json")

    def _post(self, document) -> Post:
        return Post(json.dumps(document).encode(), "application/json")


INFOBIP_REPORTS = presets.get("infobip").config["reports"]


class NativeCase:
    """A Generic provider reading its own (Infobip-shaped) reports, SPEC §5.3; authenticated
    by the secret callback URL alone."""

    takes_get = True
    name = "generic-native"
    authenticates = False
    missing_field = "$.status.groupName"

    def provider(self):
        provider = create_generic(None)
        provider.config["reports"] = INFOBIP_REPORTS
        provider.save()
        return provider

    def delivered(self, provider, message) -> Post:
        report = {
            "messageId": "ib-1",
            "to": message.to.lstrip("+"),
            "callbackData": message_ids.sign(message.id),
            "doneAt": "2026-11-30T16:00:00.000+0100",
            "status": {"groupId": 3, "groupName": "DELIVERED"},
        }
        return Post(json.dumps({"results": [report]}).encode(), "application/json")

    def without_mandatory_field(self, provider, message) -> Post:
        report = {"messageId": "ib-1", "callbackData": message_ids.sign(message.id)}
        return Post(json.dumps({"results": [report]}).encode(), "application/json")

    def unreadable(self, provider) -> Post:
        return Post(b'{"results": [', "application/json")


class TwilioCase:
    """Twilio's form-encoded status callback, signed with the auth token (SPEC §6.6)."""

    takes_get = False
    name = "twilio"
    authenticates = True
    missing_field = "MessageStatus"
    form_type = "application/x-www-form-urlencoded"

    def provider(self):
        return create_twilio(None)

    def delivered(self, provider, message, token=TWILIO_DEFAULTS["auth_token"]) -> Post:
        return self._signed(provider, message, {"MessageStatus": "delivered"}, token)

    def without_mandatory_field(self, provider, message) -> Post:
        return self._signed(provider, message, {"To": "+14155550001"})

    def unreadable(self, provider) -> Post:
        post = Post(b"MessageStatus=delivered&Body=\xff\xfe", self.form_type)
        post.headers["X-Twilio-Signature"] = "unchecked"
        return post

    def forged(self, provider, message) -> Post:
        return self.delivered(provider, message, token="not-the-auth-token")

    def _signed(self, provider, message, fields, token=TWILIO_DEFAULTS["auth_token"]) -> Post:
        form = {"MessageSid": TWILIO_SID, "AccountSid": TWILIO_DEFAULTS["account_sid"], **fields}
        query = urlencode({"meta": message_ids.sign(message.id)})
        url = f"http://testserver/callbacks/sms/{provider.callback_token}/?{query}"
        signature = RequestValidator(token).compute_signature(url, form)
        return Post(
            urlencode(form).encode(), self.form_type, query, {"X-Twilio-Signature": signature}
        )


class ToyCase:
    """The throwaway kind of docs/adding-a-provider.md: JSON signed with HMAC-SHA256."""

    takes_get = False
    name = "toy"
    authenticates = True
    missing_field = "state"
    api_key = "toy-key-0001"

    def provider(self):
        from providers.models import Provider

        provider = Provider(kind="toy", nickname="Toy", config={"endpoint": "https://toy.test"})
        provider.set_secrets({"api_key": self.api_key})
        provider.save()
        return provider

    def delivered(self, provider, message, key=api_key) -> Post:
        report = {"ref": message_ids.sign(message.id), "state": "delivered", "at": 1_790_000_000}
        return self._signed(report, key)

    def without_mandatory_field(self, provider, message) -> Post:
        return self._signed({"ref": message_ids.sign(message.id), "at": 1_790_000_000})

    def unreadable(self, provider) -> Post:
        return self._signed_raw(b'{"ref": ')

    def forged(self, provider, message) -> Post:
        return self.delivered(provider, message, key="someone-else")

    def _signed(self, report, key=api_key) -> Post:
        return self._signed_raw(json.dumps(report).encode(), key)

    def _signed_raw(self, raw: bytes, key=api_key) -> Post:
        return Post(raw, "application/json", headers={"X-Toy-Signature": toy_signature(key, raw)})


CASES = [GenericCase(), NativeCase(), TwilioCase(), ToyCase()]
