"""Form fields shared by provider kinds: key/value rows and secret inputs."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

Pairs = list[list[str]]


class KeyValueWidget(forms.Widget):
    """Rows of key/value text inputs named `<name>-key` / `<name>-value`.

    Rows are added and removed by submit buttons (`_action=add-row:<name>` or
    `remove-row:<name>:<index>`), which htmx turns into in-place refreshes of the form.
    """

    template_name = "_partials/keyvalue_widget.html"
    input_type = "keyvalue"  # lets the field partial render a fieldset with a legend

    def __init__(self, row_label: str, attrs=None):
        super().__init__(attrs)
        self.row_label = row_label

    def value_from_datadict(self, data, files, name) -> Pairs:
        getlist = data.getlist if hasattr(data, "getlist") else lambda key: data.get(key, [])
        keys, values = getlist(f"{name}-key"), getlist(f"{name}-value")
        return [[k, v] for k, v in zip(keys, values, strict=False)]

    def value_omitted_from_data(self, data, files, name) -> bool:
        return f"{name}-key" not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = [list(pair) for pair in (value or [])] or [["", ""]]
        context["widget"].update(rows=rows, row_label=self.row_label)
        return context


class KeyValueField(forms.Field):
    """A list of [key, value] pairs; blank rows are dropped, a value without a key is an error."""

    def __init__(self, *, row_label: str, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(widget=KeyValueWidget(row_label), **kwargs)

    def to_python(self, value) -> Pairs:
        pairs = []
        for key, val in value or []:
            key, val = (key or "").strip(), val or ""
            if not key and not val.strip():
                continue
            if not key:
                raise ValidationError(f"Every {self.widget.row_label.lower()} needs a key.")
            pairs.append([key, val])
        return pairs

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
