"""The Generic setup form's batching section (SPEC §2.2, §5.2): whether and how one request
carries several messages, and the rules each batch shape puts on the payload."""

from __future__ import annotations

from django import forms

from ...templating import MESSAGE_ID, TO, find_tokens, strings_in
from .config import (
    DEFAULT_DELIMITER,
    DEFAULT_RECORDS_PER_BATCH,
    MAX_RECORDS_PER_BATCH,
    ONE_TEXT_SHAPES,
    SHAPE_JOINED,
    SHAPE_KEY,
    SHAPE_NUMBERS,
    SHAPE_ROOT,
)

NO_MESSAGE_ID = (
    "$$MessageID differs for every message, so a request that sends one text to many "
    "numbers cannot carry it: remove it (reports are then matched by the provider's id and "
    "the number)."
)


class BatchingSection(forms.Form):
    """Fields and rules of the batching section; GenericProviderForm calls `check_batching`
    with the parsed payload and `batching_config` when it builds the configuration."""

    batching = forms.BooleanField(label="Enable batching", required=False)
    batch_shape = forms.ChoiceField(
        label="Batch shape",
        initial=SHAPE_KEY,
        widget=forms.RadioSelect,
        required=False,
        choices=[
            (SHAPE_KEY, "Array of messages under a key (JSON)"),
            (SHAPE_ROOT, "Array of messages as the whole body (JSON)"),
            (SHAPE_JOINED, "Numbers joined in the $$To field (one text for all)"),
            (SHAPE_NUMBERS, "Array of numbers in place of $$To (one text for all, JSON)"),
        ],
        help_text="With one text for all, recipients whose text differs (personalised, "
        "tracked links) are sent one request each.",
    )
    batch_key = forms.CharField(
        label="Batch key",
        required=False,
        max_length=200,
        help_text="Top-level key whose array holds the per-message object.",
    )
    batch_delimiter = forms.CharField(
        label="Number delimiter",
        required=False,
        strip=False,
        max_length=5,
        initial=DEFAULT_DELIMITER,
        help_text="Written between the numbers, e.g. , or < (Plivo); blank means a comma.",
    )
    records_per_batch = forms.IntegerField(
        label="Records per batch",
        required=False,
        initial=DEFAULT_RECORDS_PER_BATCH,
        help_text=f"1 to {MAX_RECORDS_PER_BATCH}.",
    )

    @staticmethod
    def batch_shape_in_use(data: dict, json_mode: bool) -> str:
        """The shape the cleaned data sends with, or "" for one request per message. Outside
        JSON only joined numbers batch (a key shape left from a JSON setup is ignored)."""
        shape = data.get("batch_shape") or SHAPE_KEY
        if not data.get("batching") or not (json_mode or shape == SHAPE_JOINED):
            return ""
        return shape

    def check_batch_shape(self, data: dict, json_mode: bool) -> None:
        """Shapes other than a key need JSON when chosen outside it."""
        shape = data.get("batch_shape") or SHAPE_KEY
        if data.get("batching") and not json_mode and shape in (SHAPE_ROOT, SHAPE_NUMBERS):
            self.add_error(
                "batch_shape",
                "This shape needs the JSON payload: choose POST and JSON, or numbers joined.",
            )

    def check_batching(self, parsed, data: dict, tokens: set[str], header_tokens: set[str]):
        """The rules of the shape in use; `parsed` is the JSON payload (None outside JSON),
        `tokens` every token the request uses."""
        records = data.get("records_per_batch")
        if records is None:
            if "records_per_batch" not in self.errors:  # not already "Enter a whole number."
                self.add_error("records_per_batch", "This field is required.")
        elif not 1 <= records <= MAX_RECORDS_PER_BATCH:
            self.add_error(
                "records_per_batch", f"Enter a number from 1 to {MAX_RECORDS_PER_BATCH}."
            )
        shape = self.batch_shape_in_use(data, parsed is not None)
        field = "json_body" if parsed is not None else "params"
        if shape in ONE_TEXT_SHAPES:
            if MESSAGE_ID in tokens:
                self.add_error("headers" if MESSAGE_ID in header_tokens else field, NO_MESSAGE_ID)
            if shape == SHAPE_NUMBERS and "$$To" not in set(_values_in(parsed)):
                self.add_error(
                    "json_body",
                    'With an array of numbers, $$To stands alone as a value ("to": "$$To"): '
                    "the array takes its place.",
                )
            return
        if shape == SHAPE_ROOT:
            if not (isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], dict)):
                self.add_error(
                    "json_body",
                    "With a root array, the JSON payload is an array of exactly one object "
                    "([{ … }]): the per-message part.",
                )
                return
            self._per_message_tokens_outside(header_tokens, "the per-message object")
            if TO not in find_tokens(strings_in(parsed)):
                self.add_error("json_body", "$$To must be inside the per-message object.")
            return
        self._clean_key_shape(parsed, data, header_tokens)

    def _clean_key_shape(self, parsed, data: dict, header_tokens: set[str]) -> None:
        key = (data.get("batch_key") or "").strip()
        if not key:
            self.add_error("batch_key", "This field is required.")
            return
        if not isinstance(parsed, dict) or key not in parsed:
            self.add_error("batch_key", f"The JSON payload has no top-level key {key!r}.")
            return
        batch = parsed[key]
        if not (isinstance(batch, list) and len(batch) == 1 and isinstance(batch[0], dict)):
            self.add_error(
                "batch_key",
                f"{key!r} must hold an array of exactly one object (the per-message part).",
            )
            return
        per_message = find_tokens(strings_in(batch[0]))
        global_part = find_tokens(strings_in({k: v for k, v in parsed.items() if k != key}))
        # Headers and the global part are rendered once per batch, so per-message tokens
        # can only live inside the per-message object.
        if TO not in per_message or TO in global_part:
            self.add_error("json_body", f"$$To must be inside the {key!r} object.")
        if MESSAGE_ID in global_part:
            self.add_error("json_body", f"$$MessageID must be inside the {key!r} object.")
        self._per_message_tokens_outside(header_tokens, f"the {key!r} object")

    def _per_message_tokens_outside(self, header_tokens: set[str], where: str) -> None:
        for token in sorted({TO, MESSAGE_ID} & header_tokens):
            self.add_error("headers", f"$${token} must be inside {where}, not a header.")

    def batching_config(self, data: dict, json_mode: bool) -> dict:
        """The batching keys; the keys added for SPEC §5.2 only when they are not their
        defaults, so that configurations without them read as before."""
        shape = self.batch_shape_in_use(data, json_mode)
        config = {
            "batching": bool(shape),
            "batch_key": data["batch_key"].strip() if shape == SHAPE_KEY else "",
            "records_per_batch": data["records_per_batch"] if shape else None,
        }
        if shape and shape != SHAPE_KEY:
            config["batch_shape"] = shape
        if shape == SHAPE_JOINED and data["batch_delimiter"] not in ("", DEFAULT_DELIMITER):
            config["batch_delimiter"] = data["batch_delimiter"]
        return config


def _values_in(node):
    """Every string value (not key) in a parsed JSON value."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for item in node.values():
            yield from _values_in(item)
    elif isinstance(node, list):
        for item in node:
            yield from _values_in(item)
