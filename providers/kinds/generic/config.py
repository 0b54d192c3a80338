"""A Generic (HTTP) provider's configuration: its keys and values, and what a configuration
implies for campaigns (which tokens it uses, whether callbacks can match its messages).

Configuration keys (Provider.config): request_type, endpoint, auth_type, basic_username,
oauth_client_url, oauth_client_id, oauth_extra, headers, body_format, params, json_body,
batching, batch_key, records_per_batch, number_format, success_rule, message_id_path,
rate_limit (the last three may be missing from configurations saved before they existed),
secret_rows (which header, parameter, extra-pair and account values are secret:
providers/secret_rows.py).
Secrets: basic_password, oauth_secret_key, and one "<list>:<key>" per secret row.

Keys added for real providers' APIs (SPEC §5.2), all read with .get() and a default, and
written by the form only when they differ from it:
- batch_shape: with `batching`, how a request carries several messages: "key" (the default,
  an array of per-message objects under batch_key), "root" (the JSON body is an array of
  per-message objects), "joined" (the numbers joined by batch_delimiter into the one field
  holding $$To; any body format) or "numbers" (a JSON array of numbers where a value is
  exactly "$$To"). "joined" and "numbers" send one text to many: messages whose requests
  differ in anything but $$To (a personalised body, tracked links) go in separate requests,
  and $$MessageID cannot be used.
- batch_delimiter: for "joined", e.g. "," or "<" (Plivo); default ",".
- answer_items_path: where a batch answer lists one item per message, e.g. "$.messages[*]";
  "" = the answer is read as a whole. With it, item_success_rule, recipient_path and
  message_id_path are read in each item ($ = the item).
- item_success_rule: a path rule each item must pass, e.g. '$.status == "0"' or
  "$.statusCode in [100, 101, 102]"; a failing item fails only its message.
- recipient_path: the number in an item (e.g. "$.to"): items matched to messages by number
  rather than by position. A message without an item ends as Dispatch Error (outcome
  unknown): it may have been accepted, so it is not sent again.
- message_id_regex: a regular expression with one capture group reading ids from a text
  answer (Gupshup "success | 9198… | ([0-9]+)"); used instead of message_id_path.
- shared_message_id: the answer's one id (message_id_path or message_id_regex, read in the
  whole answer) covers every message of the request and is stored on each of them.
- account_values: [[name, value], …] named account values ($$auth_id) usable in the
  endpoint URL (URL-quoted; a secret one not in its host), headers, parameters and JSON,
  never asked of campaigns; secret ones are listed under
  secret_rows["account_values"] (value "" here, encrypted under "account_values:<name>").
- entity_id: the value of $$EntityId (India DLT principal entity id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from django.conf import settings

from ... import secret_rows, templating
from ...templating import (
    BODY,
    ENTITY_ID,
    MESSAGE_ID,
    PROVIDER_TOKENS,
    TEMPLATE_ID,
    TOKEN_RE,
    find_tokens,
    parse_json_template,
    strings_in,
    strip_json_comments,
)

GET, POST = "GET", "POST"
AUTH_NONE, AUTH_BASIC, AUTH_OAUTH2 = "none", "basic", "oauth2"
BODY_KV, BODY_JSON = "kv", "json"
NUMBER_E164, NUMBER_E164_NO_PLUS, NUMBER_NATIONAL = "e164", "e164_no_plus", "national"
# RFC 9110 token characters: what an HTTP header name may contain.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
MAX_RECORDS_PER_BATCH = 1000
DEFAULT_RECORDS_PER_BATCH = 100
SHAPE_KEY, SHAPE_ROOT, SHAPE_JOINED, SHAPE_NUMBERS = "key", "root", "joined", "numbers"
ONE_TEXT_SHAPES = (SHAPE_JOINED, SHAPE_NUMBERS)
DEFAULT_DELIMITER = ","
ACCOUNT_VALUES = "account_values"

EXAMPLE_JSON = """{
  "tid": "$$TemplateID",
  "msgs": [
    {
      "to": "$$To",
      "mid": "$$MessageID",
      "body": "$$Body"
    }
  ]
}"""


def template_texts(config: dict) -> list[str]:
    """Every string of the configuration that may hold `$$` tokens."""
    texts = [value for _, value in config.get("headers", [])]
    if config.get("request_type") == GET or config.get("body_format") == BODY_KV:
        texts += [value for _, value in config.get("params", [])]
    else:
        # Tokens mentioned in `//` comments are not sent, so they are not used.
        texts.append(strip_json_comments(config.get("json_body", "")))
    return texts


def batch_shape(config: Mapping) -> str:
    """How one request carries several messages, or "" for one request per message."""
    if not config.get("batching"):
        return ""
    shape = config.get("batch_shape") or SHAPE_KEY
    if shape == SHAPE_KEY and not config.get("batch_key"):
        return ""
    return shape


def sends_one_text_to_many(config: Mapping) -> bool:
    """Whether a request carries one text for many numbers (joined or a numbers array)."""
    return batch_shape(config) in ONE_TEXT_SHAPES


def provider_tokens(config: Mapping) -> set[str]:
    """Tokens the provider itself gives a value: $$EntityId, $$CallbackURL and its account
    values."""
    return {*PROVIDER_TOKENS, *(name for name, _ in config.get(ACCOUNT_VALUES) or [])}


def provider_values(config: Mapping, secrets: Mapping[str, str]) -> dict[str, str]:
    """The provider-level replacements: $$EntityId and each named account value (secret ones
    decrypted). MissingSecretValue if a secret account value has no saved value."""
    values = {ENTITY_ID: config.get("entity_id") or ""}
    for row in secret_rows.resolved(config, secrets, ACCOUNT_VALUES):
        values[row.key] = row.value
    return values


def render_endpoint(endpoint: str, values: Mapping[str, str]) -> str:
    """The endpoint with its provider values in place, each URL-quoted so that a value cannot
    add a path, query or host of its own. A token without a value becomes "x" (used to find a
    saved configuration's host, whose secret values are not at hand)."""
    return TOKEN_RE.sub(lambda m: quote(str(values.get(m[1], "x")), safe="") or "x", endpoint)


def custom_tokens(config: Mapping) -> list[str]:
    """Custom replacements campaigns must give: $$EntityId and account values are the
    provider's own."""
    names = provider_tokens(config)
    return [
        token for token in templating.custom_tokens(template_texts(config)) if token not in names
    ]


def campaign_wide_tokens(config: Mapping) -> set[str]:
    """Tokens rendered once per request of a batch (headers and the JSON's global part), so
    they take one value per campaign and cannot be personalised (SPEC §3.1). Shapes that send
    one text to many have none: a personalised value only splits the requests."""
    shape = batch_shape(config)
    if shape not in (SHAPE_KEY, SHAPE_ROOT):
        return set()
    headers = [value for _, value in config.get("headers", [])]
    global_part = {}
    if shape == SHAPE_KEY:
        parsed = parse_json_template(config.get("json_body", ""))
        global_part = {k: v for k, v in parsed.items() if k != config["batch_key"]}
    return find_tokens([*strings_in(global_part), *headers]) - provider_tokens(config)


def has_callbacks(config: dict) -> bool:
    """A configuration that sends `$$MessageID` can be matched by callbacks (SPEC §2.2), and
    so can reports that name the provider's own message id (SPEC §5.3)."""
    reports = config.get("reports") or {}
    by_provider_id = reports.get("format", "reference") != "reference" and bool(
        reports.get("provider_id_path")
    )
    return by_provider_id or MESSAGE_ID in find_tokens(template_texts(config))


def template_id_required(config: dict) -> bool:
    """A payload that sends $$TemplateID but no $$Body needs a template id to say anything."""
    tokens = find_tokens(template_texts(config))
    return TEMPLATE_ID in tokens and BODY not in tokens


def claim_size(config: dict) -> int:
    """Messages claimed at once: a whole batch for a batching provider, else a small group."""
    if batch_shape(config):
        return int(config["records_per_batch"])
    return settings.DISPATCH_GROUP_SIZE
