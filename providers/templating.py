"""`$$` replacement tokens in provider payload templates (SPEC §3.1): finding them, rendering
them, and the values every kind's sender is given for them.

Pure functions: the dispatch engine renders payloads with the same token rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import message_ids

TOKEN_RE = re.compile(r"\$\$([A-Za-z_][A-Za-z0-9_]*)")

TO = "To"
BODY = "Body"
TEMPLATE_ID = "TemplateID"
TEMPLATE_VARIABLES = "TemplateVariables"
CAMPAIGN_ID = "CampaignID"
MESSAGE_ID = "MessageID"
SYSTEM_TOKENS = frozenset({TO, BODY, TEMPLATE_ID, TEMPLATE_VARIABLES, CAMPAIGN_ID, MESSAGE_ID})
# Provider-level values: the provider's kind gives them, so they are no custom replacements of
# the campaigns. $$EntityId is the India DLT principal entity id (SPEC §5.2); $$CallbackURL the
# provider's callback URL as it is when the message is sent (a rotated one included), for a
# provider that takes its report URL with each message (SPEC §5.1).
ENTITY_ID = "EntityId"
CALLBACK_URL = "CallbackURL"
PROVIDER_TOKENS = frozenset({ENTITY_ID, CALLBACK_URL})


def find_tokens(texts: Iterable[str]) -> set[str]:
    """Every token name used in the given strings."""
    found: set[str] = set()
    for text in texts:
        found.update(TOKEN_RE.findall(text or ""))
    return found


def custom_tokens(texts: Iterable[str]) -> list[str]:
    """Token names that are not system tokens, sorted: each becomes a campaign input."""
    return sorted(find_tokens(texts) - SYSTEM_TOKENS)


def strip_json_comments(text: str) -> str:
    """Remove `//` line comments that are outside JSON strings.

    The reference's payload examples carry such comments, so a pasted example must parse.
    Line breaks are kept, so parse errors still point at the admin's line numbers.
    """
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch == "/" and text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def parse_json_template(text: str) -> Any:
    """Parse an admin's JSON payload template (comments allowed). Raises json.JSONDecodeError."""
    return json.loads(strip_json_comments(text))


def strings_in(value: Any) -> Iterable[str]:
    """Every string (keys and values) inside a parsed JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


class MissingReplacement(KeyError):
    """A template uses a `$$` token for which no value was given."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"no value for $${self.name}"


def substitute(text: str, values: Mapping[str, Any]) -> str:
    """Replace every token in `text` by its value, in a single pass.

    A value that itself contains `$$To` (say, in a marketer's message) is never expanded
    again. Non-string values are written as JSON would write them.
    """

    def replace(match: re.Match) -> str:
        return _as_text(_lookup(values, match.group(1)))

    return TOKEN_RE.sub(replace, text)


def render_tree(node: Any, values: Mapping[str, Any]) -> Any:
    """Render a parsed JSON template: a string that is exactly one token becomes the value
    itself (so a list stays a list); a token inside a longer string is substituted there.
    Keys are substituted too. The result is plain data for `json.dumps`."""
    if isinstance(node, str):
        whole = TOKEN_RE.fullmatch(node)
        if whole:
            return _lookup(values, whole.group(1))
        return substitute(node, values)
    if isinstance(node, dict):
        return {substitute(key, values): render_tree(item, values) for key, item in node.items()}
    if isinstance(node, list):
        return [render_tree(item, values) for item in node]
    return node


def _lookup(values: Mapping[str, Any], name: str) -> Any:
    try:
        return values[name]
    except KeyError:
        raise MissingReplacement(name) from None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def campaign_values(
    campaign_id: str,
    *,
    template_id: str = "",
    template_variables: str = "",
    custom: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The replacements every message of one send shares (SPEC §3.1): with batching, the
    only ones the global part of the payload and the headers may use."""
    return {
        TEMPLATE_ID: template_id,
        TEMPLATE_VARIABLES: template_variables,
        CAMPAIGN_ID: campaign_id,
        **(custom or {}),
    }


def message_values(
    message_id: int, body: str, personal: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One message's own replacements: its body, its signed `$$MessageID` (SPEC §3.3) and
    its recipient's custom values."""
    return {BODY: body, MESSAGE_ID: message_ids.sign(message_id), **(personal or {})}
