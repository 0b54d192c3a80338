"""Reading a send request to the sandbox endpoint: pure, no database.

The sandbox provider's payload (see `services.JSON_BODY`) is one object with a `messages`
array; each message names its recipient (`to`), its text and its `ref` (the hub's
`$$MessageID`). Anything else is refused whole, with a reason, as a strict provider would.
"""

from __future__ import annotations

from smshub import jsonsafe

from .simulate import Submitted, first_url

MAX_MESSAGES = 1000
MAX_REF_LENGTH = 200


class BadRequest(ValueError):
    """The request is not a valid send request; the message says why."""


def parse(body: bytes) -> list[Submitted]:
    """The request's messages, in order, or BadRequest."""
    try:
        document = jsonsafe.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(document, dict):
        raise BadRequest("The body must be a JSON object.")
    sender = document.get("sender", "")
    if not isinstance(sender, str):
        raise BadRequest("'sender' must be a string.")
    messages = document.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty array.")
    if len(messages) > MAX_MESSAGES:
        raise BadRequest(f"At most {MAX_MESSAGES} messages per request, not {len(messages)}.")
    return [_message(position, item) for position, item in enumerate(messages)]


def _message(position: int, item) -> Submitted:
    where = f"messages[{position}]"
    if not isinstance(item, dict):
        raise BadRequest(f"{where} must be an object.")
    for key in ("to", "ref"):
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"{where}.{key} must be a non-empty string.")
    if len(item["ref"]) > MAX_REF_LENGTH:
        raise BadRequest(f"{where}.ref is longer than {MAX_REF_LENGTH} characters.")
    text = item.get("text")
    if not isinstance(text, str):
        raise BadRequest(f"{where}.text must be a string.")
    return Submitted(ref=item["ref"], to=item["to"].strip(), url=first_url(text))
