"""Provider presets (SPEC §5.1): one reviewed data file per real provider in `presets/`, each a
complete Generic configuration with `{{name}}` placeholders for the admin's inputs (and
`$$CallbackURL` for this provider's callback URL, filled when a message is sent).
docs/adding-a-preset.md says how to write
one. Pure: every file is loaded and checked on first use, so a malformed preset fails the
test suite rather than an admin's page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import QueryDict

from ...fields import is_http_url
from ...response_mapping import check_item_rule, check_success_rule, parse_path
from ...secret_rows import ROW_LISTS, SECRET_ROWS
from ...templating import TOKEN_RE
from .config import (
    AUTH_BASIC,
    AUTH_NONE,
    AUTH_OAUTH2,
    BODY_JSON,
    BODY_KV,
    GET,
    NUMBER_E164,
    NUMBER_E164_NO_PLUS,
    NUMBER_NATIONAL,
    ONE_TEXT_SHAPES,
    POST,
    SHAPE_KEY,
    SHAPE_ROOT,
)
from .report_form import report_initial

FOLDER = Path(__file__).with_name("presets")
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
# Form fields that take a secret input: never stored in the configuration.
SECRET_FIELDS = ("basic_password", "oauth_secret_key")
SCALAR_KEYS = {
    "request_type": {GET, POST},
    "auth_type": {AUTH_NONE, AUTH_BASIC, AUTH_OAUTH2},
    "body_format": {BODY_KV, BODY_JSON},
    "number_format": {NUMBER_E164, NUMBER_E164_NO_PLUS, NUMBER_NATIONAL},
}
REQUIRED_CONFIG = {*SCALAR_KEYS, "endpoint", "headers", "params", "success_rule"}
REQUIRED_CONFIG |= {"message_id_path", "reports"}
OPTIONAL_CONFIG = {"json_body", "basic_username", "batching", "batch_key", "records_per_batch"}
OPTIONAL_CONFIG |= {SECRET_ROWS, *SECRET_FIELDS, "inbound"}
# The richer send shapes of SPEC §5.2 (config.py), for providers that document them.
OPTIONAL_CONFIG |= {"batch_shape", "batch_delimiter", "shared_message_id"}
OPTIONAL_CONFIG |= {"answer_items_path", "item_success_rule", "recipient_path"}
REPORT_FORMATS = {"reference", "json", "form", "query"}
REPORT_PATHS = ("items_path", "our_id_path", "provider_id_path", "number_path", "status_path")
REPORT_PATHS += ("error_code_path", "error_description_path", "time_path")
REPORT_KEYS = {*REPORT_PATHS, "format", "json_field", "our_id_in_url", "status_map"}
REPORT_KEYS |= {"time_format", "time_zone"}
OUTCOMES = {"delivered", "failed", "pending"}
INBOUND_KEYS = {"from_path", "to_path", "text_path", "id_path"}
INBOUND_CONDITION = {"when_path", "when_value"}  # optional
INPUT_KINDS = {"text", "id", "host"}
TOP_KEYS = {"slug", "name", "summary", "docs", "checked", "inputs", "config", "report_url_hint"}
TOP_KEYS |= {"verified", "inferred"}


class InvalidPreset(ValueError):
    """A preset file that does not describe a complete, safe Generic configuration."""


@dataclass(frozen=True)
class PresetInput:
    name: str
    label: str  # the provider's own label
    secret: bool
    help: str
    example: str  # shown as a placeholder; the tests fill it in
    kind: str  # text, id (letters, digits, - and _: safe in a URL path) or host
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Preset:
    slug: str
    name: str
    summary: str
    docs: str
    checked: str
    inputs: tuple[PresetInput, ...]
    config: Mapping[str, Any]
    report_url_hint: str
    verified: str
    inferred: str
    later: Mapping[str, Any] | None

    @property
    def secret_inputs(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs if i.secret)

    @property
    def search_text(self) -> str:
        return f"{self.name} {self.summary} {self.slug}".lower()

    def fill(self, values: Mapping[str, str]) -> dict[str, Any]:
        """The configuration as the Generic setup form takes it: placeholders replaced by the
        admin's inputs, the JSON payload as text, secret values only in secret rows and fields."""
        filled = {i.name: values[i.name] for i in self.inputs}
        config = _substituted(dict(self.config), filled)
        if isinstance(config.get("json_body"), dict | list):
            config["json_body"] = json.dumps(config["json_body"], indent=2, ensure_ascii=False)
        return config


def form_data(preset: Preset, config: Mapping[str, Any], callback_token: str) -> QueryDict:
    """A filled configuration as the Generic setup form posts it, named after the preset:
    key/value rows as `<list>-key`/`<list>-value` with `<list>-secret` holding each secret
    row's index, booleans as "on", and the report and inbound mappings as the fields of the
    Delivery reports section."""
    data = QueryDict(mutable=True)
    data.update({"nickname": preset.name, "preset": preset.slug, "callback_token": callback_token})
    secret = config.get(SECRET_ROWS, {})
    for name, value in config.items():
        if name == SECRET_ROWS:
            continue
        if isinstance(value, list):
            _post_rows(data, name, value, set(secret.get(name, [])))
        elif not isinstance(value, dict):  # the mappings: below
            _post_value(data, name, value)
    for name, value in report_initial(config).items():
        _post_value(data, name, value)
    return data


def _post_rows(data: QueryDict, name: str, rows: list, secret_keys: set[str]) -> None:
    for index, (key, value) in enumerate(rows):
        data.appendlist(f"{name}-key", key)
        data.appendlist(f"{name}-value", value)
        if key in secret_keys:
            data.appendlist(f"{name}-secret", str(index))


def _post_value(data: QueryDict, name: str, value: Any) -> None:
    if value is True:
        data[name] = "on"
    elif value is not None and value is not False:
        data[name] = str(value)


def clean_input(preset_input: PresetInput, value: str) -> str:
    """An input as the configuration uses it; ValueError with a message for the admin."""
    value = (value or "").strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("Enter the value on one line, without control characters.")
    if preset_input.kind == "host":
        value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value, flags=re.IGNORECASE).rstrip("/")
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)+", value):
            raise ValueError("Enter a host name such as xxxxx.api.example.com.")
    elif preset_input.kind == "id" and not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        raise ValueError("Use letters, digits, - and _ only.")
    if preset_input.choices and value not in preset_input.choices:
        raise ValueError(f"Choose one of {', '.join(preset_input.choices)}.")
    return value


def _substituted(node: Any, values: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], node)
    if isinstance(node, dict):
        return {_substituted(k, values): _substituted(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_substituted(item, values) for item in node]
    return node


@cache
def all_presets() -> dict[str, Preset]:
    """Every preset by slug, sorted by name; InvalidPreset names the first broken file."""
    presets = [load(path) for path in sorted(FOLDER.glob("*.json"))]
    return {p.slug: p for p in sorted(presets, key=lambda p: p.name.lower())}


def get(slug: str) -> Preset | None:
    return all_presets().get(slug or "")


def search(query: str) -> list[Preset]:
    """Presets whose name, summary or slug contain every word of the query."""
    words = (query or "").lower().split()
    return [p for p in all_presets().values() if all(w in p.search_text for w in words)]


def load(path: Path) -> Preset:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _checked(data, path.stem)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidPreset(f"{path.name}: {exc}") from exc


def _checked(data: dict, stem: str) -> Preset:
    unknown = set(data) - TOP_KEYS - {"later"}
    _require(not unknown and set(data) >= TOP_KEYS, f"top-level keys differ: {sorted(unknown)}")
    _require(data["slug"] == stem, "the slug must be the file's name")
    _require(data["docs"].startswith("https://"), "docs must be an https:// link")
    date.fromisoformat(data["checked"])
    for key in ("name", "summary", "verified", "inferred"):
        _require(isinstance(data[key], str) and data[key].strip(), f"{key} is empty")
    inputs = tuple(_input(item) for item in data["inputs"])
    names = [i.name for i in inputs]
    _require(len(set(names)) == len(names), "input names clash")
    config = data["config"]
    _check_config(config)
    _check_placeholders(config, inputs)
    later = data.get("later")
    if later is not None:
        _require(set(later) == {"note", "config"} and later["note"], "later needs note and config")
    return Preset(
        slug=data["slug"],
        name=data["name"],
        summary=data["summary"],
        docs=data["docs"],
        checked=data["checked"],
        inputs=inputs,
        config=config,
        report_url_hint=data["report_url_hint"],
        verified=data["verified"],
        inferred=data["inferred"],
        later=later,
    )


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidPreset(message)


def _input(item: dict) -> PresetInput:
    known = {"name", "label", "secret", "help", "example", "kind", "choices"}
    _require(set(item) <= known and {"name", "label", "secret"} <= set(item), f"input {item}")
    _require(re.fullmatch(r"[a-z_][a-z0-9_]*", item["name"]) is not None, "bad input name")
    preset_input = PresetInput(
        name=item["name"],
        label=item["label"],
        secret=bool(item["secret"]),
        help=item.get("help", ""),
        example=item.get("example", ""),
        kind=item.get("kind", "text"),
        choices=tuple(item.get("choices", ())),
    )
    _require(preset_input.kind in INPUT_KINDS, f"input {preset_input.name}: unknown kind")
    _require(bool(preset_input.example), f"input {preset_input.name} needs an example")
    clean_input(preset_input, preset_input.example)
    return preset_input


def _check_config(config: dict) -> None:
    keys = set(config)
    _require(keys >= REQUIRED_CONFIG, f"config lacks {sorted(REQUIRED_CONFIG - keys)}")
    _require(keys <= REQUIRED_CONFIG | OPTIONAL_CONFIG, f"unknown {keys - REQUIRED_CONFIG}")
    for key, allowed in SCALAR_KEYS.items():
        _require(config[key] in allowed, f"{key} must be one of {sorted(allowed)}")
    _require(is_http_url(PLACEHOLDER.sub("x", config["endpoint"])), "endpoint is not a URL")
    json_mode = config["request_type"] == POST and config["body_format"] == BODY_JSON
    json_body = config.get("json_body")
    _require(json_mode == isinstance(json_body, dict | list), "json_body only for JSON")
    for list_name in ("headers", "params"):
        rows = config[list_name]
        _require(all(len(row) == 2 for row in rows), f"{list_name} rows are [key, value]")
    _require(not (json_mode and config["params"]), "a JSON payload has no parameters")
    check_success_rule(config["success_rule"])
    shapes = {SHAPE_KEY, SHAPE_ROOT, *ONE_TEXT_SHAPES}
    _require(config.get("batch_shape", SHAPE_KEY) in shapes, f"batch_shape is one of {shapes}")
    check_item_rule(config.get("item_success_rule", ""))
    answer_paths = (config.get("answer_items_path", ""), config.get("recipient_path", ""))
    for path in (config["message_id_path"], *answer_paths):
        if path:
            parse_path(path)
    for path in (*_report_paths(config), *_inbound_paths(config)):
        if path:
            parse_path(path)


def _report_paths(config: dict) -> list[str]:
    reports = config["reports"]
    if reports.get("format") == "reference":  # reports not mapped (their format is unknown)
        _require(set(reports) == {"format"}, "a reference format has no mapping")
        return []
    _require(set(reports) == REPORT_KEYS, f"reports keys differ: {set(reports) ^ REPORT_KEYS}")
    _require(reports["format"] in REPORT_FORMATS, "unknown reports format")
    _require(isinstance(reports["our_id_in_url"], bool), "our_id_in_url is true or false")
    _require(set(reports["status_map"].values()) <= OUTCOMES, f"outcomes are {sorted(OUTCOMES)}")
    try:
        ZoneInfo(reports["time_zone"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidPreset(f"unknown time zone {reports['time_zone']!r}") from exc
    time_format = reports["time_format"]
    _require(time_format in {"iso", "epoch_s", "epoch_ms"} or "%" in time_format, "time_format")
    return [reports[key] for key in REPORT_PATHS]


def _inbound_paths(config: dict) -> list[str]:
    inbound = config.get("inbound", {})
    keys = sorted(INBOUND_KEYS)
    given = set(inbound) - INBOUND_CONDITION
    _require(not inbound or given == INBOUND_KEYS, f"inbound keys are {keys} (and a condition)")
    return [path for key, path in inbound.items() if key != "when_value"]


def _strings(node: Any):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _check_placeholders(config: dict, inputs: tuple[PresetInput, ...]) -> None:
    """Every placeholder is an input or the callback URL, every input is used, and a secret
    input lands only in a secret field or a secret row (which takes no `$$` replacement)."""
    declared = {i.name for i in inputs}
    used = {name for text in _strings(config) for name in PLACEHOLDER.findall(text)}
    _require(used <= declared, f"undeclared placeholders {sorted(used - declared)}")
    _require(declared <= used, f"unused inputs {sorted(declared - used)}")
    secret = {i.name for i in inputs if i.secret}
    secret_rows = config.get(SECRET_ROWS, {})
    _require(set(secret_rows) <= set(ROW_LISTS), "secret_rows names a list that is not one")
    plain: dict[str, Any] = {k: v for k, v in config.items() if k not in SECRET_FIELDS}
    for list_name in ("headers", "params"):
        rows = config[list_name]
        keys = set(secret_rows.get(list_name, []))
        _require(keys <= {key for key, _ in rows}, f"secret_rows names no {list_name} row")
        for key, value in rows:
            if key in keys:
                _require(not TOKEN_RE.search(value), f"secret row {key!r} takes no $$ token")
        plain[list_name] = [row for row in rows if row[0] not in keys]
    in_plain = {name for text in _strings(plain) for name in PLACEHOLDER.findall(text)}
    _require(not (secret & in_plain), f"secret inputs in plain config: {sorted(secret & in_plain)}")
