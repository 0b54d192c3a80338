"""The Generic setup form's account section (SPEC §5.2): named account values ($$auth_id)
and $$EntityId, provider-level values usable in the endpoint, headers, parameters and JSON."""

from __future__ import annotations

import re

from django import forms

from ...fields import KeyValueField, as_rows, is_http_url
from ...templating import ENTITY_ID, PROVIDER_TOKENS, SYSTEM_TOKENS, TOKEN_RE, find_tokens
from .config import ACCOUNT_VALUES, render_endpoint

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def endpoint_values(values) -> dict[str, str]:
    """The plain provider values of a saved configuration or cleaned data (secret ones are
    not at hand: render_endpoint writes "x" for them)."""
    plain = {row.key: row.value for row in as_rows(values.get(ACCOUNT_VALUES)) if not row.secret}
    return {**plain, ENTITY_ID: values.get("entity_id") or ""}


def authority(url: str) -> str:
    """The scheme, host and port part of a URL as typed (before its path)."""
    rest = url.split("://", 1)[-1]
    return url[: len(url) - len(rest)] + re.split(r"[/?#]", rest, maxsplit=1)[0]


class AccountSection(forms.Form):
    """Fields and rules of the account section; `account_config` gives its keys."""

    account_values = KeyValueField(
        label="Account values",
        row_label="Account value",
        help_text="Named values of your account, e.g. auth_id, used as $$auth_id in the HTTP "
        "endpoint, headers, parameters or JSON. Tick Secret for one that must stay hidden "
        "(it is encrypted).",
    )
    entity_id = forms.CharField(
        label="Entity ID",
        required=False,
        max_length=100,
        help_text="India DLT principal entity ID, sent where $$EntityId appears.",
    )

    def check_account(self, data: dict, payload_tokens: set[str]) -> None:
        """Names, the endpoint's tokens, and an Entity ID where $$EntityId is used."""
        rows = data.get(ACCOUNT_VALUES)
        if rows is None:
            return
        seen = set()
        for row in rows:
            if not NAME.fullmatch(row.key):
                self.add_error(
                    ACCOUNT_VALUES,
                    f"{row.key!r} cannot be a name: letters, digits and _, not starting with "
                    "a digit (used as $$name).",
                )
            elif row.key in SYSTEM_TOKENS or row.key in PROVIDER_TOKENS:
                self.add_error(ACCOUNT_VALUES, f"$${row.key} is a system replacement.")
            elif row.key in seen:
                self.add_error(ACCOUNT_VALUES, f"Only one account value may be called {row.key!r}.")
            seen.add(row.key)
        if ENTITY_ID in payload_tokens and not data.get("entity_id", "").strip():
            self.add_error("entity_id", "The payload uses $$EntityId: enter it.")
        if "endpoint" in data:
            self._clean_endpoint_tokens(data, rows)

    def _clean_endpoint_tokens(self, data: dict, rows) -> None:
        endpoint = data["endpoint"]
        allowed = {row.key for row in rows} | {ENTITY_ID}
        unknown = sorted(find_tokens([endpoint]) - allowed)
        if unknown:
            self.add_error(
                "endpoint",
                f"$${unknown[0]} is not an account value: the endpoint may use account values "
                "and $$EntityId only.",
            )
            return
        secret = {row.key for row in rows if row.secret}
        in_host = secret & set(TOKEN_RE.findall(authority(endpoint)))
        if in_host:
            self.add_error(
                "endpoint",
                f"The secret value $${sorted(in_host)[0]} cannot be in the host: secrets go "
                "only to a host known when they are saved.",
            )
        elif not is_http_url(render_endpoint(endpoint, endpoint_values(data))):
            self.add_error("endpoint", "Enter an absolute http:// or https:// URL.")

    def account_config(self, data: dict) -> dict:
        """The account keys, only when set (the rows' secrets are split by the form)."""
        entity_id = data.get("entity_id", "").strip()
        return {"entity_id": entity_id} if entity_id else {}
