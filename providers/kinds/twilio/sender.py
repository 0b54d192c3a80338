"""Sending through Twilio's Messaging API (SPEC §3.5): one form post per message."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from smshub import jsonsafe

from ...base import ERROR_KEPT, OutboundRequest, OutgoingMessage, SendResult, exchange
from ...masking import mask_request
from ...templating import BODY, MESSAGE_ID

# Twilio refusals explained in our words, for marketers who never see Twilio's answer.
ANSWERS_IN_WORDS = {
    "21608": (
        "The number is not verified: a Twilio trial account only sends to numbers verified in "
        "its Twilio dashboard."
    ),
}


def status_callback(callback_url: str, message_id: str) -> str:
    """The callback URL with `meta=<MessageID>` added to its query."""
    parts = urlsplit(callback_url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("meta", message_id)]
    return urlunsplit(parts._replace(query=urlencode(query)))


class TwilioSender:
    @sensitive_variables()
    def __init__(self, config: Mapping, secrets: Mapping, *, callback_url: str, session_key: str):
        self.config = config
        self.secrets = secrets
        self.callback_url = callback_url
        self.session_key = session_key
        self.url = (
            f"{settings.TWILIO_API_BASE}/2010-04-01/Accounts/{config['account_sid']}/Messages.json"
        )

    def requests(self, messages: Sequence[OutgoingMessage]) -> Iterator[OutboundRequest]:
        for message in messages:
            form = [("To", message.to)]
            if self.config.get("service_sid"):
                form.append(("MessagingServiceSid", self.config["service_sid"]))
            else:
                form.append(("From", self.config["from_number"]))
            form.append(("Body", message.values.get(BODY, "")))
            message_id = message.values.get(MESSAGE_ID)
            if message_id:
                form.append(("StatusCallback", status_callback(self.callback_url, message_id)))
            yield OutboundRequest(
                "POST",
                self.url,
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                urlencode(form).encode(),
                (message.id,),
            )

    @sensitive_variables()
    def send(self, request: OutboundRequest) -> SendResult:
        auth = (self.config["account_sid"], self.secrets.get("auth_token", ""))
        shown = mask_request(
            request.method, request.url, request.headers, request.body, auth, self.secrets.values()
        )
        response, result = exchange(
            request.method,
            request.url,
            key=self.session_key,
            headers=request.headers,
            body=request.body,
            auth=auth,
            shown=shown,
        )
        if response is None:
            return result
        payload = _json(response)
        if result.ok:
            sid = str(payload.get("sid") or "")
            return SendResult(
                ok=True,
                status=result.status,
                body=result.body,
                provider_message_ids=(sid,) if sid else (),
                request=shown,
            )
        if "code" in payload or "message" in payload:
            error = f"Twilio error {payload.get('code', '?')}: {payload.get('message', '')}"
            return SendResult(
                ok=False,
                status=result.status,
                body=result.body,
                error=error[:ERROR_KEPT],
                retryable=result.retryable,
                retry_after=result.retry_after,
                request=shown,
                explanation=ANSWERS_IN_WORDS.get(str(payload.get("code", "")), ""),
            )
        return result


def _json(response: requests.Response) -> dict:
    try:
        payload = jsonsafe.loads(response.content)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
