"""SMS length as the network counts it (SPEC §4: the live counter on the campaign form).

A body is sent in GSM-7 when every character is in the GSM 03.38 basic set or its extension
table, otherwise in UCS-2. Marketers pay per segment, so the counter must agree with the
network, not with `len()`:

- GSM-7 counts septets: extension characters (form feed and ``^{}\\[~]|€``) are an escape
  plus a character, 2 septets each. One message holds 160 septets; a multipart message
  holds 153 per part (the user data header takes the rest).
- UCS-2 counts UTF-16 code units: a character outside the Basic Multilingual Plane (most
  emoji) is a surrogate pair, 2 units. One message holds 70 units; a part holds 67.
- A part never splits an extension character from its escape, nor a surrogate pair: when
  the 2-unit character would straddle two parts, the part ends one early (152 septets or
  66 units) and the character starts the next part. Handsets and SMSCs split this way so
  each part decodes on its own; counting it keeps "160 / 161" and emoji-heavy bodies exact.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# The GSM 03.38 default alphabet in code order (0x00-0x7F); 0x1B is the escape to the
# extension table, not a character anyone can type, so it is left out of the set.
_GSM7_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_BASIC = frozenset(_GSM7_TABLE) - {"\x1b"}
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTIPART = 160, 153
UCS2_SINGLE, UCS2_MULTIPART = 70, 67


@dataclass(frozen=True)
class SegmentCount:
    """What the counter shows.

    `per_segment` is the single-message limit while the text fits one message, the
    multipart limit after; `remaining` is what is left in the last segment (for an empty
    text, a whole single message).
    """

    encoding: str
    characters: int
    segments: int
    per_segment: int
    remaining: int
    ucs2_characters: tuple[str, ...]


def _layout(text: str) -> tuple[str, list[int], tuple[str, ...]]:
    """The encoding, each character's width in septets or code units, and the characters
    that forced UCS-2 (distinct, in order of first appearance)."""
    ucs2 = tuple(dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION))
    if ucs2:
        return UCS2, [2 if ord(c) > 0xFFFF else 1 for c in text], ucs2
    return GSM7, [2 if c in GSM7_EXTENSION else 1 for c in text], ()


def _limits(encoding: str) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_MULTIPART) if encoding == GSM7 else (UCS2_SINGLE, UCS2_MULTIPART)


def _part_starts(widths: list[int], capacity: int) -> list[int]:
    """Indexes (into the text) where each part starts, filling parts greedily; a 2-unit
    character that does not fit whole goes to the next part."""
    starts, used = [0], 0
    for i, width in enumerate(widths):
        if used + width > capacity:
            starts.append(i)
            used = 0
        used += width
    return starts


def count(text: str) -> SegmentCount:
    """Encoding, length, segments and room left for an SMS body."""
    encoding, widths, ucs2 = _layout(text)
    single, multipart = _limits(encoding)
    characters = sum(widths)
    if characters <= single:
        segments = 1 if characters else 0
        return SegmentCount(encoding, characters, segments, single, single - characters, ucs2)
    starts = _part_starts(widths, multipart)
    last_part = sum(widths[starts[-1] :])
    return SegmentCount(encoding, characters, len(starts), multipart, multipart - last_part, ucs2)


def split(text: str) -> list[str]:
    """The parts a multipart message is sent in (the text itself when it fits one message)."""
    encoding, widths, _ = _layout(text)
    single, multipart = _limits(encoding)
    if sum(widths) <= single:
        return [text] if text else []
    starts = _part_starts(widths, multipart)
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
