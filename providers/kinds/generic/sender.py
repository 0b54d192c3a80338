"""Sending a Generic provider's rendered requests (SPEC §3.4): auth, one OAuth refresh on
401, the classification of the answer and its response mapping (success rule, provider
message ids)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.views.decorators.debug import sensitive_variables

from ... import oauth
from ...base import (
    OutboundRequest,
    OutgoingMessage,
    SendResult,
    ShownRequest,
    auth_failure,
    exchange,
)
from ...masking import mask_request
from ...response_mapping import is_success, provider_message_ids
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
        return self._mapped(result, response.text, len(request.message_ids))

    def _mapped(self, result: SendResult, text: str, count: int) -> SendResult:
        """A 2xx answer checked against the success rule, with the provider's message ids.
        A provider that says "error" inside a 200 will say it again: not retryable."""
        try:
            if not is_success(self.config.get("success_rule") or "", text):
                error = f"Answer did not match the success rule: {text[:300]}"
                return replace(result, ok=False, error=error, retryable=False)
            ids = provider_message_ids(self.config.get("message_id_path") or "", text, count)
        except ValueError as exc:  # a configuration the form never validated
            return replace(result, ok=False, error=f"Response mapping is invalid: {exc}")
        return replace(result, provider_message_ids=ids)

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
