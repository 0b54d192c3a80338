"""Personalising a message body, its Template Variables and custom replacements from the
recipient's contact attributes (SPEC §4).

How to write it (shown to marketers):

- ``{first_name}`` is replaced by the contact's ``first_name`` attribute, the column of
  that name in the imported CSV. Names are case-sensitive, exactly as in the CSV header,
  and may contain letters, digits, ``_``, ``-`` and spaces (``{First Name}``); spaces
  around the name are ignored.
- ``{first_name|there}`` uses ``there`` when the contact has no such attribute or it is
  blank: "Hi {first_name|there}!" becomes "Hi Ann!" or "Hi there!". Spaces around the
  fallback are ignored too; ``{first_name|}`` means "nothing" explicitly.
- Without a fallback, a missing attribute leaves nothing: "Hi {first_name}!" → "Hi !".
- ``{{`` and ``}}`` write a literal ``{`` and ``}``. So ``{{first_name}}`` is printed as
  ``{first_name}``, it is *not* replaced.
- Anything else with braces is a mistake and the form says where (positions count from 1):
  a ``{`` that is never closed, ``{}``, a lone ``}``, or a name with other characters.

Substitution is a single pass: an attribute value that itself contains ``{x}`` is sent
as written, never expanded again (a contact's data is not a template).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_NAME = re.compile(r"[\w\- ]+")  # \w: letters (any script), digits and _
_TEXT = re.compile(r"[^{}]+")


class TemplateError(ValueError):
    """A body the marketer must fix; the message says where and how, `position` counts from 1."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Placeholder:
    """``{name}`` or ``{name|default}``; `default` is None when there is no ``|``."""

    name: str
    default: str | None = None


# A parsed template is literal text and placeholders, in order.
Part = str | Placeholder


@lru_cache(maxsize=512)
def parse(template: str) -> tuple[Part, ...]:
    """The template's parts; cached because every recipient of a campaign renders the same body."""
    parts: list[Part] = []
    literal: list[str] = []
    i, n = 0, len(template)
    while i < n:
        text = _TEXT.match(template, i)
        if text:
            literal.append(text.group())
            i = text.end()
            continue
        brace = template[i]
        if template.startswith(brace * 2, i):
            literal.append(brace)
            i += 2
            continue
        if brace == "}":
            raise TemplateError(
                f"Unmatched }} at character {i + 1}: write }}}} for a literal brace.", i + 1
            )
        close = template.find("}", i + 1)
        nested = template.find("{", i + 1, close)
        if close == -1 or nested != -1:
            raise TemplateError(
                f"Unclosed {{ at character {i + 1}: write {{{{ for a literal brace.", i + 1
            )
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(_placeholder(template[i + 1 : close], i + 1))
        i = close + 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def _placeholder(inside: str, position: int) -> Placeholder:
    name, bar, default = inside.partition("|")
    name = name.strip()
    if not inside.strip():
        raise TemplateError(
            f"Empty {{}} at character {position}: put an attribute name inside, "
            "e.g. {first_name}, or write {{ and }} for literal braces.",
            position,
        )
    if not name:
        raise TemplateError(
            f"Missing attribute name before | at character {position}: "
            "write e.g. {first_name|there}.",
            position,
        )
    if not _NAME.fullmatch(name):
        raise TemplateError(
            f'Invalid attribute name "{name}" at character {position}: names may contain '
            "letters, digits, _, - and spaces; write {{ and }} for literal braces.",
            position,
        )
    return Placeholder(name, default.strip() if bar else None)


def validate(template: str) -> None:
    """Raise TemplateError when the template cannot be rendered."""
    parse(template)


def names(template: str) -> list[str]:
    """The attribute names used, in order of first use, each once."""
    return list(dict.fromkeys(p.name for p in parse(template) if isinstance(p, Placeholder)))


def names_without_default(template: str) -> list[str]:
    """The names used at least once without a fallback: where a missing attribute leaves a gap."""
    return list(
        dict.fromkeys(
            p.name for p in parse(template) if isinstance(p, Placeholder) and p.default is None
        )
    )


def render(template: str, attributes: Mapping[str, Any]) -> str:
    """The template with each placeholder replaced by the contact's attribute, in one pass."""
    out: list[str] = []
    for part in parse(template):
        if isinstance(part, str):
            out.append(part)
            continue
        value = attributes.get(part.name)
        value = "" if value is None else str(value)
        if part.default is not None and not value.strip():
            value = part.default
        out.append(value)
    return "".join(out)
