"""Sending a Generic provider's rendered requests (SPEC §3.4): auth, one OAuth refresh on
401, the classification of the answer and its response mapping (success rule, provider
message ids, and how each message of a batch fared: SPEC §5.2)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.views.decorators.debug import sensitive_variables

from ... import oauth
from ...base import (
    Cause,
    OutboundRequest,
    OutgoingMessage,
    SendResult,
    ShownRequest,
    auth_failure,
    exchange,
)
from ...masking import mask_request
from ...response_mapping import ITEM_FAILED, ITEM_SENT, AnswerMapping
from .config import AUTH_BASIC, AUTH_OAUTH2
from .payload import GenericPayloadBuilder


class GenericSender:
    """Renders and sends messages through a Generic provider's configuration.

    `campaign_values` are the replacements shared by all messages of one send. `secrets` are
    the provider's decrypted secrets (its password or OAuth secret and its secret rows): every
    method that holds them is hidden from error reports (`sensitive_variables`).
    """

    @sensitive_variables()
    def __init__(
        self,
        config: Mapping,
        secrets: Mapping,
        *,
        campaign_values: Mapping[str, Any],
        session_key: str,
    ):
        self.config = config
        self.secrets = secrets
        self.session_key = session_key
        self.builder = GenericPayloadBuilder(config, campaign_values, secrets)
        self.mapping = AnswerMapping(
            success_rule=config.get("success_rule") or "",
            message_id_path=config.get("message_id_path") or "",
            message_id_regex=config.get("message_id_regex") or "",
            items_path=config.get("answer_items_path") or "",
            item_success_rule=config.get("item_success_rule") or "",
            recipient_path=config.get("recipient_path") or "",
            shared_message_id=bool(config.get("shared_message_id")),
        )

    def requests(self, messages: Sequence[OutgoingMessage]) -> Iterator[OutboundRequest]:
        return self.builder.requests(messages)

    @sensitive_variables()
    def send(self, request: OutboundRequest) -> SendResult:
        try:
            headers, auth = self._credentials(request.headers)
        except oauth.OAuthError as exc:
            return auth_failure(exc, self._shown(request, request.headers, None))
        result = self._post(request, headers, auth)
        if result.status == 401 and self.config.get("auth_type") == AUTH_OAUTH2:
            oauth.invalidate(self.config, self.secrets)
            try:
                headers, auth = self._credentials(request.headers)
            except oauth.OAuthError as exc:
                return auth_failure(exc, result.request)
            result = self._post(request, headers, auth)
        return result

    @sensitive_variables()
    def _post(self, request: OutboundRequest, headers, auth) -> SendResult:
        response, result = exchange(
            request.method,
            request.url,
            key=self.session_key,
            headers=headers,
            body=request.body,
            auth=auth,
            shown=self._shown(request, headers, auth),
        )
        if response is None or not result.ok:
            return result
        # The mapping reads the whole answer: the result keeps only its first BODY_KEPT chars.
        return self._mapped(result, response.text, request)

    def _mapped(self, result: SendResult, text: str, request: OutboundRequest) -> SendResult:
        """A 2xx answer checked against the success rules, with the provider's message ids.
        A provider that says "error" inside a 200 will say it again: not retryable."""
        recipients = request.recipients or ("",) * len(request.message_ids)
        try:
            answer = self.mapping.read(text, recipients)
        except ValueError as exc:  # a configuration the form never validated
            return replace(result, ok=False, error=f"Response mapping is invalid: {exc}")
        if not answer.ok:
            error = f"Answer did not match the success rule: {text[:300]}"
            return replace(result, ok=False, error=error, retryable=False)
        if not answer.items:
            return replace(result, provider_message_ids=answer.ids)
        return replace(result, per_message=tuple(_item_result(result, i) for i in answer.items))

    @sensitive_variables()
    def _credentials(self, headers: dict[str, str]):
        auth_type = self.config.get("auth_type")
        if auth_type == AUTH_BASIC:
            return headers, (self.config["basic_username"], self.secrets.get("basic_password", ""))
        if auth_type == AUTH_OAUTH2:
            access_token = oauth.token(self.config, self.secrets, session_key=self.session_key)
            return {**headers, "Authorization": f"Bearer {access_token}"}, None
        return headers, None

    @sensitive_variables()
    def _shown(self, request: OutboundRequest, headers, auth) -> ShownRequest:
        return mask_request(
            request.method, request.url, headers, request.body, auth, self.secrets.values()
        )


def _item_result(result: SendResult, item) -> SendResult:
    """One message's part of a batch answer: sent with its id, refused by its item, or not
    mentioned (it may have been accepted, so it is not sent again: outcome unknown)."""
    if item.state == ITEM_SENT:
        ids = (item.provider_id,) if item.provider_id else ()
        return replace(result, provider_message_ids=ids)
    if item.state == ITEM_FAILED:
        error = f"The answer's item for this message did not match its rule: {item.item}"
        return replace(result, ok=False, error=error, retryable=False)
    error = "The answer had no item for this message."
    return replace(result, ok=False, error=error, outcome_unknown=True, cause=Cause.NO_ANSWER_ITEM)
