"""Click tracking (SPEC §4.1): finding the links in a body, the codes of their short links and
where a code leads.

A short link is ``<link base><code>``; the code is base64url(varint(message id) · link index
· HMAC-SHA256(key, both)[:6]), 11 characters for small ids and at most MAX_CODE_LENGTH
(22). It names the link by its position in the message's body, so nothing per link is
stored: the redirect personalises the body again and takes that URL. The MAC makes a
forged or altered code fail without a database look-up (48 bits: guessing is online only,
one request per try); the code holds no personal data.

A message's links are numbered from 0 and the index is one byte, so a body's first 256
links are tracked; any further link is left as written (it still works, just untracked).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from . import personalize
from .models import Message

MAX_INDEX = 255
MAX_MESSAGE_ID = 2**63 - 1
_MAC_BYTES = 6
_CODE = re.compile(r"[A-Za-z0-9_-]+")

# Never inside a URL: spaces, angle brackets, double quotes (straight, curly, guillemets).
_NEVER = r"\s<>\"“”«»"
_BRACKETS = r"()\[\]{}"
# Sentence punctuation: part of a URL inside it, not at its end.
_TRAILING = ".,;:!?'\u2019\u2026"  # ... and the typographic apostrophe and ellipsis
_CHAR = rf"[^{_NEVER}{_BRACKETS}]"
_LAST_CHAR = rf"[^{_NEVER}{_BRACKETS}{_TRAILING}]"
# A closing bracket belongs to the URL only when it closes an opening one inside the URL,
# as in https://en.wikipedia.org/wiki/Python_(programming_language); one level deep. Every
# alternative consumes one character or one group, so matching cannot backtrack badly.
_GROUP = rf"\({_CHAR}*\)|\[{_CHAR}*\]|\{{{_CHAR}*\}}"

URL_PATTERN = re.compile(
    # http(s):// and any host, or a host starting with www. without a scheme (phones make
    # those clickable too); not in the middle of a word, an e-mail address or a host name.
    rf"(?<![\w@.\-])(?i:https?://|www\.)(?=[\w\[])"
    rf"(?:{_CHAR}|{_GROUP})*(?:{_LAST_CHAR}|{_GROUP})"
)


def find_urls(text: str) -> list[str]:
    """The URLs in a text as written, in order; a URL written twice is two links."""
    return [match.group() for match in URL_PATTERN.finditer(text)]


def original_url(text: str, index: int) -> str | None:
    """Where link `index` of a (personalised) body leads, None when there is no such link.

    A link written without a scheme (www.example.com) leads to http://, as a phone would
    open it; the site upgrades to https itself.
    """
    urls = find_urls(text)
    if not 0 <= index < len(urls):
        return None
    url = urls[index]
    return url if "://" in url[:8] else f"http://{url}"


def _varint(number: int) -> bytes:
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _key() -> bytes:
    return hashlib.sha256(b"smshub-link-code:" + settings.SECRET_KEY.encode()).digest()


def _mac(payload: bytes) -> bytes:
    return hmac.new(_key(), payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_CODE_LENGTH = len(_b64(bytes(len(_varint(MAX_MESSAGE_ID)) + 1 + _MAC_BYTES)))


def encode(message_id: int, index: int) -> str:
    """The code of link `index` (0-based) in message `message_id`'s body."""
    if not 0 <= message_id <= MAX_MESSAGE_ID:
        raise ValueError(f"message id out of range: {message_id}")
    if not 0 <= index <= MAX_INDEX:
        raise ValueError(f"link index out of range: {index}")
    payload = _varint(message_id) + bytes([index])
    return _b64(payload + _mac(payload))


def decode(code: str) -> tuple[int, int] | None:
    """(message id, link index) of a code this hub issued; None for anything else, never raising."""
    if not isinstance(code, str) or not 0 < len(code) <= MAX_CODE_LENGTH:
        return None
    if not _CODE.fullmatch(code):
        return None
    try:
        raw = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
    except ValueError:
        return None
    if _b64(raw) != code:
        # The last character carries spare bits: only the canonical spelling is ours.
        return None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(payload) < 2 or not hmac.compare_digest(mac, _mac(payload)):
        return None
    message_id = 0
    for shift, byte in enumerate(payload[:-1]):
        message_id |= (byte & 0x7F) << (7 * shift)
    if _varint(message_id) != payload[:-1]:
        return None  # not one varint (or not its shortest form): not something encode makes
    return message_id, payload[-1]


@dataclass(frozen=True)
class Target:
    message: Message
    index: int
    url: str


def resolve(code: str) -> Target | None:
    """The message and original URL behind a tracked link's code, or None. The URL is the
    code's link in the message's body as it was sent (personalised from the contact's
    attributes), so nothing per link needs storing."""
    decoded = decode(code)
    if decoded is None:
        return None
    message_id, index = decoded
    message = Message.objects.select_related("campaign", "provider").filter(pk=message_id).first()
    if message is None:
        return None
    body = personalize.render(message.campaign.body, message.values or {})
    url = original_url(body, index)
    return Target(message, index, url) if url else None


def track(text: str, message_id: int, link_base: str) -> str:
    """The text with each of its links replaced by its short link; the rest untouched."""
    return _replace_links(text, lambda index: encode(message_id, index), link_base)


def tracked_length_preview(text: str, link_base: str) -> str:
    """The text as `track` would make it for the longest possible code, so segments can be
    counted before messages (and their ids) exist. The placeholder is GSM-7, as codes are."""
    return _replace_links(text, lambda index: "x" * MAX_CODE_LENGTH, link_base)


def _replace_links(text: str, code_of: Callable[[int], str], link_base: str) -> str:
    index = -1

    def replace(match: re.Match[str]) -> str:
        nonlocal index
        index += 1
        return f"{link_base}{code_of(index)}" if index <= MAX_INDEX else match.group()

    return URL_PATTERN.sub(replace, text)
