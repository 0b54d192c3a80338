"""Reading a Generic provider's answer (SPEC §3.4): a success rule and the provider's own
message ids. Pure: no database, no network.

A JSON path starts with `$` (the whole document), then any steps: `.key` (letters, digits,
`_` and `-`, not starting with a digit or `-`), `["any key"]` (a JSON string), `[0]` (an
array index; out of range selects nothing) and `[*]` (every element of an array), e.g.
`$.messages[*].id` or `$["message ids"][0]`. A step that does not fit the value it meets
(a key on an array, say) selects nothing.

A success rule is `<path> == <JSON value>` (some selected value equals it, as JSON: `true`
is not `1`), e.g. `$.status == "ok"`, `$.success == true`, `$.code == 0`; or `<path>` alone
(some selected value is truthy); or, when it does not start with `$`, a regular expression
searched in the raw answer. A path rule fails on an answer that is not JSON; an empty rule
accepts every answer.

Provider message ids are kept only when they match the request's messages one-to-one, in
order: one id for a batch of three, or a null among three, gives no ids at all, since a
guess would attach the provider's callbacks to the wrong message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import suppress
from functools import lru_cache
from typing import Any

from smshub import jsonsafe

_STEP = re.compile(
    r"""\.(?P<key>[^\W\d][\w-]*)
      | \[\s*(?: (?P<quoted>"(?:[^"\\]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")
              | (?P<index>\d+) | (?P<all>\*) )\s*\]""",
    re.VERBOSE,
)
_STEP_FORMS = '.key, ["key"], [0] or [*]'


def _parse(text: str) -> tuple[tuple[str | int | None, ...], int]:
    """The steps of the path at the start of `text` (a key, an index, or None for `[*]`),
    and where the path ends."""
    if not text.startswith("$"):
        raise ValueError("A JSON path starts with $, e.g. $.messages[*].id.")
    steps: list[str | int | None] = []
    pos = 1
    while match := _STEP.match(text, pos):
        if match["quoted"]:
            steps.append(json.loads(match["quoted"], strict=False))
        else:
            steps.append(match["key"] or (int(match["index"]) if match["index"] else None))
        pos = match.end()
    return tuple(steps), pos


def _unexpected(text: str, pos: int, hint: str) -> ValueError:
    return ValueError(f"Unexpected {text[pos : pos + 20]!r} at character {pos + 1}: {hint}.")


@lru_cache(maxsize=256)
def parse_path(text: str) -> tuple[str | int | None, ...]:
    """The steps of a JSON path; ValueError with a message for an admin if it is malformed."""
    text = text.strip()
    steps, end = _parse(text)
    if end != len(text):
        raise _unexpected(text, end, f"a path continues with {_STEP_FORMS}")
    return steps


def select(path: str, document: Any) -> list:
    """Every value the path selects in a parsed JSON document (empty if none)."""
    values = [document]
    for step in parse_path(path):
        selected = []
        for value in values:
            if step is None:
                selected.extend(value if isinstance(value, list) else [])
            elif isinstance(value, dict if isinstance(step, str) else list):
                with suppress(KeyError, IndexError):
                    selected.append(value[step])
        values = selected
    return values


def _same(a: Any, b: Any) -> bool:
    """JSON equality: unlike Python's, `true` is not `1` and `false` is not `0`."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _select_in_answer(path: str, body: str) -> list:
    """What the path selects in an answer; nothing when the answer is not JSON."""
    try:
        document = jsonsafe.loads(body)
    except ValueError:
        return []
    return select(path, document)


@lru_cache(maxsize=256)
def _compile(rule: str) -> Callable[[str], bool]:
    if not rule:
        return lambda body: True
    if not rule.startswith("$"):
        try:
            pattern = re.compile(rule)
        except re.error as exc:
            raise ValueError(f"Not a valid regular expression: {exc}.") from exc
        return lambda body: pattern.search(body) is not None
    _, end = _parse(rule)
    path, rest = rule[:end], rule[end:].lstrip()
    if rest and not rest.startswith("=="):
        hint = f"a path continues with {_STEP_FORMS}, and may end with == and a JSON value"
        raise _unexpected(rule, len(rule) - len(rest), hint)
    try:
        expected = json.loads(rest[2:]) if rest else None
    except ValueError as exc:
        raise ValueError(
            'After == comes a JSON value: "text" in double quotes, a number, true, false or null.'
        ) from exc

    def matches(body: str) -> bool:
        values = _select_in_answer(path, body)
        return any(_same(v, expected) for v in values) if rest else any(values)

    return matches


def check_success_rule(rule: str) -> None:
    """ValueError with a message for an admin if the rule is malformed."""
    _compile(rule.strip())


def is_success(rule: str, body_text: str) -> bool:
    """Whether a 2xx answer's body passes the rule (an empty rule passes everything)."""
    return _compile(rule.strip())(body_text)


def provider_message_ids(path: str, body_text: str, count: int) -> tuple[str, ...]:
    """The provider's ids for the `count` messages of one request, in order; () unless the
    answer is JSON and the path selects exactly `count` ids. Numbers become strings ("12");
    nulls, empty strings, booleans, objects and arrays are not ids."""
    if not path.strip():
        return ()
    ids = []
    for value in _select_in_answer(path, body_text):
        if isinstance(value, str) and value:
            ids.append(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ids.append(json.dumps(value))
    return tuple(ids) if len(ids) == count else ()
