"""A Generic (HTTP) provider's configuration: its keys and values, and what a configuration
implies for campaigns (which tokens it uses, whether callbacks can match its messages).

Configuration keys (Provider.config): request_type, endpoint, auth_type, basic_username,
oauth_client_url, oauth_client_id, oauth_extra, headers, body_format, params, json_body,
batching, batch_key, records_per_batch, number_format, success_rule, message_id_path,
rate_limit (the last three may be missing from configurations saved before they existed),
secret_rows (which header, parameter and extra-pair values are secret: providers/secret_rows.py).
Secrets: basic_password, oauth_secret_key, and one "<list>:<key>" per secret row.
"""

from __future__ import annotations

import re

from django.conf import settings

from ...templating import (
    BODY,
    MESSAGE_ID,
    TEMPLATE_ID,
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


def campaign_wide_tokens(config: dict) -> set[str]:
    """Tokens rendered once per request of a batch (headers and the JSON's global part), so
    they take one value per campaign and cannot be personalised (SPEC §3.1)."""
    if not (config.get("batching") and config.get("batch_key")):
        return set()
    parsed = parse_json_template(config.get("json_body", ""))
    global_part = {k: v for k, v in parsed.items() if k != config["batch_key"]}
    headers = [value for _, value in config.get("headers", [])]
    return find_tokens([*strings_in(global_part), *headers])


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
    if config.get("batching") and config.get("batch_key"):
        return int(config["records_per_batch"])
    return settings.DISPATCH_GROUP_SIZE
