r"""Reading a Generic provider's answer (SPEC §3.4): a success rule and the provider's own
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

A rule may also be `<path> in [JSON values]` (some selected value is one of them), e.g.
`$.statusCode in [100, 101, 102]`.

Provider message ids are kept only when they match the request's messages one-to-one, in
order: one id for a batch of three, or a null among three, gives no ids at all, since a
guess would attach the provider's callbacks to the wrong message. A regular expression with
one capture group reads ids from a text answer instead (`success \| \d+ \| (\d+)`); a
provider whose one id covers a whole request has it stored on each of its messages.

A batch answer may say how each message fared (SPEC §5.2): `AnswerMapping` finds its items,
matches them to the messages by position or by the number each names, and applies a
success rule to each item, so one failed item fails only its message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
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
    document = _parsed_or_none(body)
    return [] if document is _NOT_JSON else select(path, document)


@lru_cache(maxsize=256)
def _compile(rule: str) -> Callable[[str], bool]:
    """The rule as a test of an answer's raw text."""
    if not rule:
        return lambda body: True
    if not rule.startswith("$"):
        try:
            pattern = re.compile(rule)
        except re.error as exc:
            raise ValueError(f"Not a valid regular expression: {exc}.") from exc
        return lambda body: pattern.search(body) is not None
    test = _compile_path_rule(rule)
    return lambda body: test(_parsed_or_none(body))


_NOT_JSON = object()


def _parsed_or_none(body: str) -> Any:
    try:
        return jsonsafe.loads(body)
    except ValueError:
        return _NOT_JSON


@lru_cache(maxsize=256)
def _compile_path_rule(rule: str) -> Callable[[Any], bool]:
    """A rule starting with $ as a test of a parsed document (`_NOT_JSON` fails it)."""
    _, end = _parse(rule)
    path, rest = rule[:end], rule[end:].lstrip()
    operator = next((op for op in ("==", "in ", "in[") if rest.startswith(op)), None)
    if rest and operator is None:
        hint = f"a path continues with {_STEP_FORMS}, and may end with == and a JSON value"
        raise _unexpected(rule, len(rule) - len(rest), hint)
    if operator == "==":
        try:
            expected = [json.loads(rest[2:])]
        except ValueError as exc:
            raise ValueError(
                'After == comes a JSON value: "text" in double quotes, a number, true, false '
                "or null."
            ) from exc
    elif operator:
        try:
            expected = json.loads(rest[2:])
        except ValueError:
            expected = None
        if not isinstance(expected, list):
            raise ValueError('After in comes a JSON array, e.g. [100, 101] or ["0", "1"].')

    def matches(document: Any) -> bool:
        if document is _NOT_JSON:
            return False
        values = select(path, document)
        if not rest:
            return any(values)
        return any(_same(v, e) for v in values for e in expected)

    return matches


def check_success_rule(rule: str) -> None:
    """ValueError with a message for an admin if the rule is malformed."""
    _compile(rule.strip())


def is_success(rule: str, body_text: str) -> bool:
    """Whether a 2xx answer's body passes the rule (an empty rule passes everything)."""
    return _compile(rule.strip())(body_text)


def check_item_rule(rule: str) -> None:
    """ValueError with a message for an admin unless the rule is a path rule (items are JSON)."""
    rule = rule.strip()
    if rule and not rule.startswith("$"):
        raise ValueError('An item rule is a JSON path, e.g. $.status == "0".')
    if rule:
        _compile_path_rule(rule)


def check_id_regex(pattern: str) -> None:
    """ValueError with a message for an admin unless it compiles with one capture group."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"Not a valid regular expression: {exc}.") from exc
    if compiled.groups != 1:
        raise ValueError(
            "The expression needs exactly one capture group, around the id: (…), "
            f"and has {compiled.groups}."
        )


def _as_ids(values: list) -> list[str]:
    """Numbers become strings ("12"); nulls, empty strings, booleans, objects and arrays are
    not ids."""
    ids = []
    for value in values:
        if isinstance(value, str) and value:
            ids.append(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ids.append(json.dumps(value))
    return ids


def provider_message_ids(path: str, body_text: str, count: int) -> tuple[str, ...]:
    """The provider's ids for the `count` messages of one request, in order; () unless the
    answer is JSON and the path selects exactly `count` ids."""
    if not path.strip():
        return ()
    ids = _as_ids(_select_in_answer(path, body_text))
    return tuple(ids) if len(ids) == count else ()


def ids_by_regex(pattern: str, body_text: str, count: int) -> tuple[str, ...]:
    """The capture group of each match in a text answer, in order; () unless exactly
    `count` non-empty ids are found."""
    if not pattern:
        return ()
    ids = [match.group(1) for match in re.finditer(pattern, body_text) if match.group(1)]
    return tuple(ids) if len(ids) == count else ()


def _digits(number: Any) -> str:
    return re.sub(r"\D", "", json.dumps(number) if not isinstance(number, str) else number)


def _same_number(a: str, b: str) -> bool:
    """Digits equal, or one the other's tail (a national number against E.164)."""
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    return a == b or (len(shorter) >= 6 and longer.endswith(shorter))


ITEM_SENT, ITEM_FAILED, ITEM_MISSING = "sent", "failed", "missing"


@dataclass(frozen=True)
class ItemOutcome:
    """What a batch answer says about one message: sent (with the provider's id, if any),
    failed (its item did not pass the item rule), or missing (no item for it)."""

    state: str
    provider_id: str = ""
    item: str = ""  # the item as JSON, for the admin's error


@dataclass(frozen=True)
class Answer:
    """A 2xx answer read for the messages of one request: `ok` when it passed the success
    rule; `ids` one per message (or none); `items` one per message when the answer has items."""

    ok: bool
    ids: tuple[str, ...] = ()
    items: tuple[ItemOutcome, ...] = ()


@dataclass(frozen=True)
class AnswerMapping:
    """How to read a provider's answer. Without `items_path`, `message_id_path` is read in the
    whole answer; with it, `item_success_rule`, `recipient_path` and `message_id_path` are
    read in each item (`$` is the item), except that a `shared_message_id` is always read in
    the whole answer. `message_id_regex` reads ids from a text answer."""

    success_rule: str = ""
    message_id_path: str = ""
    message_id_regex: str = ""
    items_path: str = ""
    item_success_rule: str = ""
    recipient_path: str = ""
    shared_message_id: bool = False

    def read(self, body_text: str, recipients: Sequence[str]) -> Answer:
        """ValueError for a mapping the form would not have saved."""
        if not is_success(self.success_rule, body_text):
            return Answer(ok=False)
        count = len(recipients)
        ids = self._ids(body_text, 1 if self.shared_message_id else count)
        if self.shared_message_id:
            ids *= count
        if not self.items_path:
            return Answer(ok=True, ids=ids)
        items = self._items(body_text, recipients, ids)
        return Answer(ok=True, ids=tuple(item.provider_id for item in items), items=items)

    def _ids(self, body_text: str, count: int) -> tuple[str, ...]:
        if self.items_path and not self.shared_message_id:
            return ()  # read in each item
        if self.message_id_regex:
            return ids_by_regex(self.message_id_regex, body_text, count)
        return provider_message_ids(self.message_id_path, body_text, count)

    def _items(self, body_text: str, recipients: Sequence[str], shared: tuple[str, ...]):
        document = _parsed_or_none(body_text)
        found = [] if document is _NOT_JSON else select(self.items_path, document)
        if self.recipient_path:
            matched = self._by_number(found, recipients)
        else:
            matched = found if len(found) == len(recipients) else [None] * len(recipients)
        passes = _compile_path_rule(self.item_success_rule) if self.item_success_rule else None
        outcomes = []
        for index, item in enumerate(matched):
            if item is None:
                outcomes.append(ItemOutcome(ITEM_MISSING))
                continue
            shown = json.dumps(item, ensure_ascii=False)[:300]
            if passes is not None and not passes(item):
                outcomes.append(ItemOutcome(ITEM_FAILED, item=shown))
                continue
            if shared:
                provider_id = shared[index]
            else:
                item_ids = (
                    _as_ids(select(self.message_id_path, item)) if self.message_id_path else []
                )
                provider_id = item_ids[0] if len(item_ids) == 1 else ""
            outcomes.append(ItemOutcome(ITEM_SENT, provider_id, shown))
        return tuple(outcomes)

    def _by_number(self, items: list, recipients: Sequence[str]) -> list:
        """Each message's item: the first unused one naming its number."""
        numbers = []
        for item in items:
            named = select(self.recipient_path, item)
            numbers.append(_digits(named[0]) if named and named[0] is not None else "")
        used: set[int] = set()
        matched = []
        for recipient in recipients:
            wanted = _digits(recipient)
            index = next(
                (
                    i
                    for i, number in enumerate(numbers)
                    if i not in used and _same_number(number, wanted)
                ),
                None,
            )
            if index is not None:
                used.add(index)
            matched.append(None if index is None else items[index])
        return matched
