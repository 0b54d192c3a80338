"""The Generic setup form's answer section (SPEC §3.4, §5.2): how a provider's answer says
success, where its message ids are, and how a batch answer's items map to the messages."""

from __future__ import annotations

from django import forms

from ...response_mapping import check_id_regex, check_item_rule, check_success_rule, parse_path

CODE_INPUT = {"spellcheck": "false", "autocomplete": "off"}
NEEDS_ITEMS = "Enter the answer items path too: this is read in each item."


def _code_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs=CODE_INPUT),
        help_text=help_text,
    )


def _checked(value: str, check) -> str:
    value = value.strip()
    if value:
        try:
            check(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
    return value


class AnswerSection(forms.Form):
    """Fields and rules of the answer section; `answer_config` gives its configuration keys."""

    success_rule = _code_field(
        "Success rule",
        'Optional. A JSON path the answer must match, e.g. $.status == "ok", or a '
        "regular expression. Without it, any 2xx answer is a success.",
    )
    message_id_path = _code_field(
        "Provider message ID path",
        "Optional. JSON path to the provider's own message ID in its answer, "
        "e.g. $.messages[*].id for a batch (with answer items: in each item, e.g. $.id).",
    )
    message_id_regex = _code_field(
        "Message ID expression",
        "Optional, for answers in plain text: a regular expression whose one capture group "
        r"is the ID, e.g. success \| \d+ \| (\d+)",
    )
    shared_message_id = forms.BooleanField(
        label="One message ID for the whole request",
        required=False,
        help_text="The provider answers one ID for all recipients of a request: it is kept "
        "on each message, and reports are matched by ID and number.",
    )
    answer_items_path = _code_field(
        "Answer items path",
        "Optional. Where a batch answer lists one item per message, e.g. $.messages[*].",
    )
    item_success_rule = _code_field(
        "Rule for each item",
        'Optional. A JSON path rule each item must match, e.g. $.status == "0" or '
        "$.statusCode in [100, 101, 102]: a failed item fails only its message.",
    )
    recipient_path = _code_field(
        "Recipient path",
        "Optional. The number in each item, e.g. $.to: items are matched to messages by "
        "number instead of by position.",
    )

    def clean_success_rule(self) -> str:
        return _checked(self.cleaned_data["success_rule"], check_success_rule)

    def clean_message_id_path(self) -> str:
        return _checked(self.cleaned_data["message_id_path"], parse_path)

    def clean_message_id_regex(self) -> str:
        return _checked(self.cleaned_data["message_id_regex"], check_id_regex)

    def clean_answer_items_path(self) -> str:
        return _checked(self.cleaned_data["answer_items_path"], parse_path)

    def clean_item_success_rule(self) -> str:
        return _checked(self.cleaned_data["item_success_rule"], check_item_rule)

    def clean_recipient_path(self) -> str:
        return _checked(self.cleaned_data["recipient_path"], parse_path)

    def check_answer(self, data: dict) -> None:
        """Rules between the answer's fields."""
        items = data.get("answer_items_path")
        id_path, id_regex = data.get("message_id_path"), data.get("message_id_regex")
        if id_path and id_regex:
            self.add_error("message_id_regex", "Give a message ID path or an expression, not both.")
        for name in ("item_success_rule", "recipient_path"):
            if data.get(name) and not items and "answer_items_path" not in self.errors:
                self.add_error(name, NEEDS_ITEMS)
        shared = data.get("shared_message_id")
        if shared and not (id_path or id_regex):
            self.add_error(
                "shared_message_id",
                "Say where the ID is: enter a message ID path or expression.",
            )
        if id_regex and items and not shared:
            self.add_error(
                "message_id_regex",
                "With answer items, each item's ID is read by the message ID path; an "
                "expression reads a whole text answer.",
            )

    def answer_config(self, data: dict) -> dict:
        """The answer keys; those added for SPEC §5.2 only when set."""
        config = {
            "success_rule": data["success_rule"],
            "message_id_path": data["message_id_path"],
        }
        for name in (
            "message_id_regex",
            "answer_items_path",
            "item_success_rule",
            "recipient_path",
        ):
            if data[name]:
                config[name] = data[name]
        if data["shared_message_id"]:
            config["shared_message_id"] = True
        return config
