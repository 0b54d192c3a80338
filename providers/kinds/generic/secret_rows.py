"""The Generic setup form's secret key/value rows (SPEC §5.2): which rows are secret, what
was typed for them, and the rules that keep a saved value tied to its key."""

from __future__ import annotations

from ... import secret_rows
from ...templating import TOKEN_RE


class SecretRowsMixin:
    """For a ProviderForm whose KeyValueFields are named after secret_rows.ROW_LISTS. The form
    says which lists its current choices send (`row_lists_in_use`)."""

    def row_lists_in_use(self) -> tuple[str, ...]:
        raise NotImplementedError

    def mark_saved_rows(self) -> None:
        """Secret rows with a saved value say "saved — leave blank to keep"."""
        config = self.provider.config if self.provider else {}
        for list_name in secret_rows.ROW_LISTS:
            keys = secret_rows.secret_keys(config, list_name)
            self.fields[list_name].mark_saved(
                {
                    k
                    for k in keys
                    if secret_rows.secret_name(list_name, k) in self.saved_secret_names
                }
            )

    def typed_secrets(self) -> dict[str, str]:
        """The secret fields and secret rows in use, with what was typed ("" = keep saved)."""
        typed = super().typed_secrets()
        for list_name in self.row_lists_in_use():
            for row in self.cleaned_data[list_name]:
                if row.secret:
                    typed[secret_rows.secret_name(list_name, row.key)] = row.value
        return typed

    def clean_secret_rows(self) -> None:
        for list_name in self.row_lists_in_use():
            self._clean_rows(list_name)

    def _clean_rows(self, list_name: str) -> None:
        """A secret row is known by its key: one per key, and a blank value keeps the value
        saved under that key (a new or renamed key has none, so its value must be typed)."""
        label = secret_rows.ROW_LABELS[list_name]
        config = self.provider.config if self.provider else {}
        was_secret = secret_rows.secret_keys(config, list_name)
        seen = set()
        for row in self.cleaned_data[list_name]:
            saved = secret_rows.secret_name(list_name, row.key) in self.saved_secret_names
            if not row.secret:
                if not row.value and row.key in was_secret and saved:
                    self.add_error(
                        list_name,
                        f"Type the value of {row.key!r} to make it plain: "
                        "its saved secret value is not shown.",
                    )
                continue
            if row.key in seen:
                self.add_error(list_name, f"Only one secret {label} may be called {row.key!r}.")
            seen.add(row.key)
            if TOKEN_RE.search(row.value):
                self.add_error(
                    list_name,
                    f"The secret value of {row.key!r} holds a $$ replacement: secret values are "
                    "sent exactly as typed. Untick Secret to use replacements.",
                )
            elif not row.value and not saved:
                self.add_error(
                    list_name,
                    f"Type the value of {row.key!r} again: no secret value is saved under this "
                    "key (secret values are kept by key, so a new or renamed key needs one).",
                )
