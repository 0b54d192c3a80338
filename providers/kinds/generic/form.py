"""A Generic (HTTP) provider's setup form (SPEC §2.2): the fields an admin fills in, their
rules, and how they become a configuration (its keys: config.py)."""

from __future__ import annotations

import json

from django import forms

from ... import secret_rows
from ...fields import KeyValueField, SecretField, as_rows, is_http_url, rate_limit_field
from ...forms import ProviderForm
from ...secret_rows import KeyValueRow
from ...templating import (
    BODY,
    PROVIDER_TOKENS,
    TEMPLATE_ID,
    TO,
    custom_tokens,
    find_tokens,
    parse_json_template,
    strings_in,
    strip_json_comments,
)
from . import presets
from .account import AccountSection, endpoint_values
from .answer import AnswerSection
from .batching import BatchingSection
from .config import (
    ACCOUNT_VALUES,
    AUTH_BASIC,
    AUTH_NONE,
    AUTH_OAUTH2,
    BODY_JSON,
    BODY_KV,
    DEFAULT_RECORDS_PER_BATCH,
    EXAMPLE_JSON,
    GET,
    HEADER_NAME,
    NUMBER_E164,
    NUMBER_E164_NO_PLUS,
    NUMBER_NATIONAL,
    POST,
    SHAPE_KEY,
    SHAPE_ROOT,
    render_endpoint,
)
from .report_form import ReportMappingFields, report_initial
from .secret_rows import SecretRowsMixin


class GenericProviderForm(
    ReportMappingFields,
    SecretRowsMixin,
    BatchingSection,
    AnswerSection,
    AccountSection,
    ProviderForm,
):
    kind = "generic"
    secret_fields = ("basic_password", "oauth_secret_key")

    request_type = forms.ChoiceField(
        label="Request Type",
        choices=[(GET, "GET"), (POST, "POST")],
        initial=POST,
        widget=forms.RadioSelect,
    )
    endpoint = forms.CharField(
        label="HTTP Endpoint",
        max_length=2000,
        help_text="The provider's API URL, e.g. https://api.example.com/sms/send; it may use "
        "account values, e.g. https://api.plivo.com/v1/Account/$$auth_id/Message/",
    )
    auth_type = forms.ChoiceField(
        label="Authentication",
        initial=AUTH_NONE,
        choices=[
            (AUTH_NONE, "No Authentication"),
            (AUTH_BASIC, "Basic Authentication"),
            (AUTH_OAUTH2, "OAuth 2.0"),
        ],
    )
    basic_username = forms.CharField(label="Username", required=False, max_length=200)
    basic_password = SecretField(label="Password")
    oauth_client_url = forms.CharField(
        label="Client URL",
        required=False,
        max_length=2000,
        help_text="Token endpoint (client credentials grant).",
    )
    oauth_client_id = forms.CharField(label="Client ID", required=False, max_length=500)
    oauth_secret_key = SecretField(label="Secret key")
    oauth_extra = KeyValueField(
        label="Key-value pairs",
        row_label="Extra pair",
        help_text="Optional extra fields sent to the token endpoint. Tick Secret for a value "
        "that must stay hidden (it is encrypted).",
    )
    headers = KeyValueField(
        label="Headers",
        row_label="Header",
        help_text="Added to every request. Values may hold $$ replacements; tick Secret for a "
        "key or token (encrypted, sent exactly as typed).",
    )
    body_format = forms.ChoiceField(
        label="Parameters",
        initial=BODY_JSON,
        widget=forms.RadioSelect,
        required=False,
        choices=[(BODY_KV, "Key-value pair"), (BODY_JSON, "JSON")],
    )
    params = KeyValueField(
        label="Key-value pairs",
        row_label="Parameter",
        help_text="Values may hold $$ replacements; tick Secret for a key or token (encrypted, "
        "sent exactly as typed).",
    )
    json_body = forms.CharField(
        label="JSON payload",
        required=False,
        initial=EXAMPLE_JSON,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
        help_text="// comments are allowed (they are stripped).",
    )
    number_format = forms.ChoiceField(
        label="Number format",
        initial=NUMBER_E164,
        choices=[
            (NUMBER_E164, "E.164 with + (+14155550123)"),
            (NUMBER_E164_NO_PLUS, "E.164 without + (14155550123)"),
            (NUMBER_NATIONAL, "National (4155550123)"),
        ],
    )
    rate_limit = rate_limit_field()
    # The preset the provider was made from (presets.py): its page links the preset's docs.
    preset = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    # The page's order (errors are summed up in it); the sections' fields would come first.
    field_order = (
        *("nickname", "callback_token", "is_default", "request_type", "endpoint", "auth_type"),
        *("basic_username", "basic_password", "oauth_client_url", "oauth_client_id"),
        *("oauth_secret_key", "oauth_extra", "account_values", "entity_id", "headers"),
        *("body_format", "params", "json_body"),
        *("batching", "batch_shape", "batch_key", "batch_delimiter", "records_per_batch"),
        *("number_format", "success_rule", "message_id_path", "message_id_regex"),
        *("shared_message_id", "answer_items_path", "item_success_rule", "recipient_path"),
        "rate_limit",
    )
    CHOICES_WITH_DEFAULTS = (
        "request_type",
        "auth_type",
        "body_format",
        "number_format",
        "batch_shape",
    )

    def __init__(self, data=None, **kwargs):
        if data is not None:
            # A choice whose control was hidden (e.g. Parameters under GET) keeps its default,
            # so switching back shows a sensible selection.
            data = data.copy()
            for name in self.CHOICES_WITH_DEFAULTS:
                if not data.get(name):
                    data[name] = self.base_fields[name].initial
        super().__init__(data, **kwargs)
        self.mark_saved_rows()

    # --- what the page shows for the current choices -----------------------------------
    @property
    def uses_json(self) -> bool:
        return self.current("request_type") == POST and self.current("body_format") == BODY_JSON

    def detected_custom_tokens(self) -> list[str]:
        """Custom replacements in what is typed now (valid or not): campaigns will ask for them."""
        texts = _plain_values(as_rows(self.current("headers")))
        if self.uses_json:
            texts.append(strip_json_comments(self.current("json_body") or ""))
        else:
            texts += _plain_values(as_rows(self.current("params")))
        accounts = (row.key.strip() for row in as_rows(self.current(ACCOUNT_VALUES)))
        names = {*PROVIDER_TOKENS, *accounts}
        return [token for token in custom_tokens(texts) if token not in names]

    @property
    def credential_notices(self) -> list[str]:
        """The saved provider's plain values that look like credentials (SPEC §5.2)."""
        return secret_rows.credential_notices(self.provider.config) if self.provider else []

    def active_secret_fields(self) -> tuple[str, ...]:
        return {
            AUTH_BASIC: ("basic_password",),
            AUTH_OAUTH2: ("oauth_secret_key",),
        }.get(self.cleaned_data.get("auth_type"), ())

    def row_lists_in_use(self) -> tuple[str, ...]:
        data = self.cleaned_data
        lists = ["headers", ACCOUNT_VALUES]
        if not (data.get("request_type") == POST and data.get("body_format") == BODY_JSON):
            lists.append("params")
        if data.get("auth_type") == AUTH_OAUTH2:
            lists.append("oauth_extra")
        return tuple(name for name in lists if name in data)

    def destinations(self, values) -> dict[str, str]:
        endpoint = values.get("endpoint", "")
        urls = {"The endpoint": render_endpoint(endpoint, endpoint_values(values))}
        if values.get("auth_type") == AUTH_OAUTH2:
            urls["The OAuth client URL"] = values.get("oauth_client_url", "")
        return urls

    # --- validation ----------------------------------------------------------------------
    def clean_endpoint(self) -> str:
        endpoint = self.cleaned_data["endpoint"].strip()
        # Account values are checked with the other fields (check_account).
        if not is_http_url(render_endpoint(endpoint, {})):
            raise forms.ValidationError("Enter an absolute http:// or https:// URL.")
        return endpoint

    def clean_preset(self) -> str:
        slug = self.cleaned_data["preset"]
        return slug if presets.get(slug) else ""

    def clean(self) -> dict:
        data = super().clean()
        auth = data.get("auth_type")
        if auth == AUTH_BASIC:
            self.require("basic_username")
            self.require_secret("basic_password")
        elif auth == AUTH_OAUTH2:
            self.require("oauth_client_url", "oauth_client_id")
            self.require_secret("oauth_secret_key")
            url = data.get("oauth_client_url")
            if url and not is_http_url(url):
                self.add_error("oauth_client_url", "Enter an absolute http:// or https:// URL.")
        tokens = set()
        if "request_type" in data and "headers" in data:
            tokens = self._clean_payload(data)
        self.check_answer(data)
        self.check_account(data, tokens)
        self.clean_report_mapping(data)
        self.clean_secret_rows()
        self.require_secrets_when_moved(data)
        return data

    def _clean_payload(self, data: dict) -> set[str]:
        """The rules of the headers and payload; returns every token they use."""
        headers = data["headers"]
        header_tokens = find_tokens(_plain_values(headers))
        for key, value, _ in headers:
            if "\n" in value or "\r" in value:
                self.add_error("headers", f"Header {key!r} contains a line break.")
            elif not HEADER_NAME.fullmatch(key):
                self.add_error(
                    "headers",
                    f"{key!r} is not a valid header name (letters, digits and - _ . only).",
                )
        json_mode = data["request_type"] == POST and data.get("body_format") == BODY_JSON
        self.check_batch_shape(data, json_mode)
        shape = self.batch_shape_in_use(data, json_mode)
        parsed = None
        if not json_mode:
            payload_field = "params"
            if "params" not in data:
                return header_tokens
            payload_tokens = find_tokens(_plain_values(data["params"]))
        else:
            payload_field = "json_body"
            parsed = self._parse_json(data.get("json_body") or "", root=shape == SHAPE_ROOT)
            if parsed is None:
                return header_tokens
            payload_tokens = find_tokens(strings_in(parsed))
        tokens = header_tokens | payload_tokens
        if shape:
            self.check_batching(parsed, data, tokens, header_tokens)
        where = "the headers or the JSON payload" if json_mode else "the headers or parameters"
        if TO not in tokens and shape not in (SHAPE_KEY, SHAPE_ROOT):
            # (Batched under a key or in a root array, check_batching said where $$To goes.)
            self.add_error(payload_field, f"$$To must appear in {where}.")
        if BODY not in tokens and TEMPLATE_ID not in tokens:
            self.add_error(payload_field, f"$$Body or $$TemplateID must appear in {where}.")
        return tokens

    def _parse_json(self, text: str, *, root: bool = False):
        """The JSON payload: an object, or with a root-array batch shape an array."""
        if not text.strip():
            self.add_error("json_body", "Enter the JSON payload.")
            return None
        try:
            parsed = parse_json_template(text)
        except json.JSONDecodeError as exc:
            self.add_error(
                "json_body", f"Invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            )
            return None
        if not isinstance(parsed, list if root else dict):
            if not root:
                self.add_error("json_body", "The JSON payload must be an object ({ … }).")
            else:
                self.add_error(
                    "json_body",
                    "With a root array, the JSON payload is an array of exactly one object "
                    "([{ … }]): the per-message part.",
                )
            return None
        return parsed

    # --- configuration ---------------------------------------------------------------------
    def to_config(self) -> dict:
        data = self.cleaned_data
        auth = data["auth_type"]
        json_mode = data["request_type"] == POST and data["body_format"] == BODY_JSON
        lists = {name: data[name] for name in self.row_lists_in_use()}
        rows = {name: secret_rows.split(lists.get(name, [])) for name in secret_rows.ROW_LISTS}
        config = {
            "request_type": data["request_type"],
            "endpoint": data["endpoint"],
            "auth_type": auth,
            "basic_username": data["basic_username"] if auth == AUTH_BASIC else "",
            "oauth_client_url": data["oauth_client_url"] if auth == AUTH_OAUTH2 else "",
            "oauth_client_id": data["oauth_client_id"] if auth == AUTH_OAUTH2 else "",
            "oauth_extra": rows["oauth_extra"][0],
            "headers": rows["headers"][0],
            "body_format": data["body_format"] if data["request_type"] == POST else BODY_KV,
            "params": rows["params"][0],
            "json_body": data["json_body"] if json_mode else "",
            **self.batching_config(data, json_mode),
            "number_format": data["number_format"],
            **self.answer_config(data),
            "rate_limit": data["rate_limit"],
            **self.account_config(data),
        }
        if rows[ACCOUNT_VALUES][0]:
            config[ACCOUNT_VALUES] = rows[ACCOUNT_VALUES][0]
        config.update(self.report_config())
        if data.get("preset"):
            config["preset"] = data["preset"]
        secret = {name: keys for name, (_, keys) in rows.items() if keys}
        if secret:
            config[secret_rows.SECRET_ROWS] = secret
        return config

    def initial_from_config(self, config: dict) -> dict:
        initial = dict(config) | report_initial(config)
        for list_name in secret_rows.ROW_LISTS:
            initial[list_name] = secret_rows.rows_of(config, list_name)
        if not initial.get("records_per_batch"):
            initial["records_per_batch"] = DEFAULT_RECORDS_PER_BATCH
        if not initial.get("json_body"):
            initial.pop("json_body", None)
        return initial


def _plain_values(rows: list[KeyValueRow]) -> list[str]:
    """The values that may hold `$$` tokens: a secret value is sent exactly as typed."""
    return [row.value for row in rows if not row.secret]
