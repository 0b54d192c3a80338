"""Build the HTTP requests a Generic provider receives for a group of messages (SPEC §3.2,
§5.2).

Pure: no database, no network. The JSON template is parsed once per builder; each request is
rendered on the parsed tree, so no text is ever spliced into JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import phonenumbers

from ... import secret_rows
from ...base import OutboundRequest, OutgoingMessage
from ...templating import (
    TO,
    parse_json_template,
    render_tree,
    substitute,
)
from .config import (
    BODY_JSON,
    DEFAULT_DELIMITER,
    GET,
    NUMBER_E164_NO_PLUS,
    NUMBER_NATIONAL,
    ONE_TEXT_SHAPES,
    POST,
    SHAPE_JOINED,
    SHAPE_KEY,
    SHAPE_ROOT,
    batch_shape,
    provider_values,
    render_endpoint,
)

JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# Stands for the numbers while messages are compared: two messages whose requests differ only
# in it can share one request (shapes that send one text to many).
_ANY_NUMBER = "\x00number\x00"


class UnsafeHeader(ValueError):
    """A rendered header value holds a line break (it would split the request) or a character
    that HTTP headers cannot carry (they are Latin-1: `Zoë` is fine, `😀` is not)."""


def format_number(e164: str, number_format: str) -> str:
    """`$$To` as the provider wants it: E.164 (+14155550123), without + (14155550123), or
    the national significant number (4155550123: no country code, no trunk prefix)."""
    if number_format == NUMBER_E164_NO_PLUS:
        return e164.lstrip("+")
    if number_format == NUMBER_NATIONAL:
        return phonenumbers.national_significant_number(phonenumbers.parse(e164))
    return e164


class GenericPayloadBuilder:
    """Renders a Generic provider's configuration into requests.

    `campaign_values` hold the replacements that are the same for every message of a send
    (TemplateID, CampaignID, campaign-wide custom tokens); with batching under a key or in a
    root array they are the only values the global part of the JSON and the headers may use.
    `secrets` are the provider's decrypted secrets: the values of its secret header and
    parameter rows, sent as they are (no `$$` replacement in them), and of its secret account
    values. The provider's own values ($$EntityId, account values) join every message's.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        campaign_values: Mapping[str, Any],
        secrets: Mapping[str, str] | None = None,
    ):
        self.config = config
        self.given_values = dict(campaign_values)
        self.secrets = secrets or {}
        self.method = config["request_type"]
        self.json_mode = self.method == POST and config.get("body_format") == BODY_JSON
        self.template = parse_json_template(config["json_body"]) if self.json_mode else None
        shape = batch_shape(config)
        self.shape = shape if self.json_mode or shape == SHAPE_JOINED else ""
        self.batch_key = config.get("batch_key") if self.shape == SHAPE_KEY else ""
        self.batch_size = int(config.get("records_per_batch") or 1) if self.shape else 1

    # Resolved on first use, while requests are rendered: a secret row without a saved value
    # is a MissingSecretValue (a ValueError) for the messages being rendered.
    @cached_property
    def header_rows(self) -> list[secret_rows.KeyValueRow]:
        return list(secret_rows.resolved(self.config, self.secrets, "headers"))

    @cached_property
    def param_rows(self) -> list[secret_rows.KeyValueRow]:
        return list(secret_rows.resolved(self.config, self.secrets, "params"))

    @cached_property
    def campaign_values(self) -> dict[str, Any]:
        return {**self.given_values, **provider_values(self.config, self.secrets)}

    @cached_property
    def endpoint(self) -> str:
        return render_endpoint(self.config["endpoint"], provider_values(self.config, self.secrets))

    def requests(self, messages: Sequence[OutgoingMessage]) -> Iterator[OutboundRequest]:
        """One request per message, or per batch of up to records-per-batch messages."""
        if self.shape in ONE_TEXT_SHAPES:
            yield from self._one_text_requests(messages)
            return
        for start in range(0, len(messages), self.batch_size):
            chunk = messages[start : start + self.batch_size]
            if self.shape:
                yield self._batched_request(chunk)
            else:
                yield self._request(self.message_values(chunk[0]), chunk)

    def message_values(self, message: OutgoingMessage) -> dict[str, Any]:
        values = {**self.campaign_values, **message.values}
        values[TO] = self._number(message)
        return values

    def _number(self, message: OutgoingMessage) -> str:
        return format_number(message.to, self.config.get("number_format", ""))

    def _one_text_requests(self, messages: Sequence[OutgoingMessage]) -> Iterator[OutboundRequest]:
        """Messages whose requests would differ only in the number share requests, up to
        records-per-batch each; a message whose text is its own gets a request of its own."""
        alike: dict[tuple, list[OutgoingMessage]] = {}
        for message in messages:
            request = self._request({**self.message_values(message), TO: _ANY_NUMBER}, ())
            key = (request.url, tuple(request.headers.items()), request.body)
            alike.setdefault(key, []).append(message)
        for group in alike.values():
            for start in range(0, len(group), self.batch_size):
                chunk = group[start : start + self.batch_size]
                numbers = [self._number(m) for m in chunk]
                if self.shape == SHAPE_JOINED:
                    delimiter = self.config.get("batch_delimiter") or DEFAULT_DELIMITER
                    to = delimiter.join(numbers)
                else:
                    to = numbers
                yield self._request({**self.message_values(chunk[0]), TO: to}, chunk)

    def _request(
        self, values: Mapping[str, Any], messages: Sequence[OutgoingMessage]
    ) -> OutboundRequest:
        headers = self._headers(values)
        url, body = self.endpoint, None
        if self.json_mode:
            body = _json_bytes(render_tree(self.template, values))
            headers.setdefault_ci("Content-Type", JSON_CONTENT_TYPE)
        else:
            pairs = [(row.key, _rendered(row, values)) for row in self.param_rows]
            encoded = urlencode(pairs)
            if self.method == GET:
                url = _with_query(url, encoded)
            else:
                body = encoded.encode()
                headers.setdefault_ci("Content-Type", FORM_CONTENT_TYPE)
        return self._outbound(url, headers, body, messages)

    def _batched_request(self, messages: Sequence[OutgoingMessage]) -> OutboundRequest:
        """Per-message objects in an array: under the batch key, or as the whole body."""
        if self.shape == SHAPE_ROOT:
            item_template = self.template[0]
        else:
            item_template = self.template[self.batch_key][0]
        items = [render_tree(item_template, self.message_values(m)) for m in messages]
        if self.shape == SHAPE_ROOT:
            document = items
        else:
            rendered_global = render_tree(
                {k: v for k, v in self.template.items() if k != self.batch_key},
                self.campaign_values,
            )
            document = {}
            for key in self.template:  # keep the admin's key order
                document[key] = items if key == self.batch_key else rendered_global[key]
        headers = self._headers(self.campaign_values)
        headers.setdefault_ci("Content-Type", JSON_CONTENT_TYPE)
        return self._outbound(self.endpoint, headers, _json_bytes(document), messages)

    def _outbound(self, url, headers, body, messages) -> OutboundRequest:
        return OutboundRequest(
            self.method,
            url,
            dict(headers),
            body,
            tuple(m.id for m in messages),
            tuple(self._number(m) for m in messages),
        )

    def _headers(self, values: Mapping[str, Any]) -> _Headers:
        headers = _Headers()
        for row in self.header_rows:
            key, value = row.key, _rendered(row, values)
            if "\r" in value or "\n" in value:
                raise UnsafeHeader(f"header {key!r} would contain a line break")
            if not value.isascii() and not _is_latin1(value):
                raise UnsafeHeader(
                    f"header {key!r} would hold characters an HTTP header cannot carry"
                )
            headers[key] = value
        return headers


class _Headers(dict):
    def setdefault_ci(self, name: str, value: str) -> None:
        """Set a header unless the admin already set it, in any letter case."""
        if not any(key.lower() == name.lower() for key in self):
            self[name] = value


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _rendered(row: secret_rows.KeyValueRow, values: Mapping[str, Any]) -> str:
    """A row's value as sent: a secret value as it is, any other with its tokens replaced."""
    return row.value if row.secret else substitute(row.value, values)


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _with_query(url: str, query: str) -> str:
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"
