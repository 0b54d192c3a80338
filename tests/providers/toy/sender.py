"""Toy SMS sends one message per request: POST {"to", "text", "ref"} with the API key as a
Bearer token; it answers {"id": "<its message id>"}."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence

from django.views.decorators.debug import sensitive_variables

from providers.base import OutboundRequest, OutgoingMessage, SendResult, exchange
from providers.masking import mask_request
from providers.templating import BODY, MESSAGE_ID


class ToySender:
    @sensitive_variables()
    def __init__(self, config: Mapping, secrets: Mapping, *, session_key: str):
        self.endpoint = config["endpoint"]
        self.secrets = secrets
        self.session_key = session_key

    def requests(self, messages: Sequence[OutgoingMessage]) -> Iterator[OutboundRequest]:
        for message in messages:
            body = {"to": message.to, "text": message.values[BODY]}
            body["ref"] = message.values[MESSAGE_ID]
            yield OutboundRequest(
                "POST",
                self.endpoint,
                {"Content-Type": "application/json"},
                json.dumps(body).encode(),
                (message.id,),
            )

    @sensitive_variables()
    def send(self, request: OutboundRequest) -> SendResult:
        headers = {**request.headers, "Authorization": f"Bearer {self.secrets['api_key']}"}
        shown = mask_request(
            request.method, request.url, headers, request.body, None, self.secrets.values()
        )
        response, result = exchange(
            request.method,
            request.url,
            key=self.session_key,
            headers=headers,
            body=request.body,
            auth=None,
            shown=shown,
        )
        if response is None or not result.ok:
            return result
        their_id = str(response.json().get("id", ""))
        return SendResult(
            ok=True,
            status=result.status,
            body=result.body,
            provider_message_ids=(their_id,) if their_id else (),
            request=shown,
        )
