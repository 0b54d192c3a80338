"""Form fields shared by provider kinds: key/value rows, secret inputs, URLs, rate limits."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from .secret_rows import KeyValueRow

MIN_RATE_LIMIT, MAX_RATE_LIMIT = 0.1, 10000


def as_rows(value) -> list[KeyValueRow]:
    """Rows from posted data or a saved configuration ([key, value] pairs are plain rows)."""
    return [row if isinstance(row, KeyValueRow) else KeyValueRow(*row) for row in value or []]


class KeyValueWidget(forms.Widget):
    """Rows of key/value inputs named `<name>-key` / `<name>-value`, each with a "Secret"
    checkbox named `<name>-secret` whose value is the row's index.

    Rows are added and removed by submit buttons (`_action=add-row:<name>` or
    `remove-row:<name>:<index>`), which htmx turns into in-place refreshes of the form.
    A secret row's value is a password input that shows only what was typed in this form,
    never a saved value: `saved_keys` are the secret keys that have a saved value.
    """

    template_name = "_partials/keyvalue_widget.html"
    input_type = "keyvalue"  # lets the field partial render a fieldset with a legend

    def __init__(self, row_label: str, attrs=None):
        super().__init__(attrs)
        self.row_label = row_label
        self.saved_keys: set[str] = set()

    def value_from_datadict(self, data, files, name) -> list[KeyValueRow]:
        getlist = data.getlist if hasattr(data, "getlist") else lambda key: data.get(key, [])
        keys, values = getlist(f"{name}-key"), getlist(f"{name}-value")
        secret = {int(i) for i in getlist(f"{name}-secret") if str(i).isdigit()}
        return [
            KeyValueRow(k, v, i in secret)
            for i, (k, v) in enumerate(zip(keys, values, strict=False))
        ]

    def value_omitted_from_data(self, data, files, name) -> bool:
        return f"{name}-key" not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = [
            {"key": row.key, "value": row.value, "secret": row.secret, "saved": self._saved(row)}
            for row in as_rows(value) or [KeyValueRow("", "")]
        ]
        context["widget"].update(rows=rows, row_label=self.row_label)
        return context

    def _saved(self, row: KeyValueRow) -> bool:
        return row.secret and not row.value and row.key.strip() in self.saved_keys


class KeyValueField(forms.Field):
    """A list of rows (key, value, secret); blank rows are dropped, a value without a key is an
    error. A secret row may come with a blank value: the form keeps the saved one."""

    def __init__(self, *, row_label: str, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(widget=KeyValueWidget(row_label), **kwargs)

    def to_python(self, value) -> list[KeyValueRow]:
        rows = []
        for key, val, secret in as_rows(value):
            key, val = (key or "").strip(), val or ""
            if not key and not val.strip():
                continue
            if not key:
                raise ValidationError(f"Every {self.widget.row_label.lower()} needs a key.")
            rows.append(KeyValueRow(key, val, secret))
        return rows

    def mark_saved(self, keys: set[str]) -> None:
        """Secret keys of this list whose value is saved (shown as "saved — leave blank")."""
        self.widget.saved_keys = set(keys)

    def prepare_value(self, value):
        return value


class SecretField(forms.CharField):
    """A password input that is never filled from the database.

    When a value is already saved, the field is optional and says so: blank keeps it.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        # new-password: browsers must not fill the admin's own login into a provider's secret.
        widget = forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"})
        super().__init__(widget=widget, **kwargs)
        self.is_saved = False

    def mark_saved(self) -> None:
        self.is_saved = True
        self.help_text = "Saved — leave blank to keep."
        self.widget.attrs["placeholder"] = "•••••••• (saved)"


def is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. "http://[::1": a malformed host is not a URL, not a crash
        return False


def rate_limit_field() -> forms.FloatField:
    """The optional per-provider rate limit every kind offers (SPEC §3.4)."""
    return forms.FloatField(
        label="Rate limit (requests per second)",
        required=False,
        min_value=MIN_RATE_LIMIT,
        max_value=MAX_RATE_LIMIT,
        help_text="Optional. Shared by all workers. Leave blank for no limit.",
    )
