"""Secret values in a Generic provider's key/value rows: headers, parameters, OAuth extra
pairs and named account values (SPEC §5.2 "secret values anywhere").

A row marked secret keeps its key in `Provider.config` (its value there is "") and is listed
under `config["secret_rows"]`, e.g. `{"headers": ["X-Api-Key"]}`; its value lives in the
encrypted secrets under `"<list>:<key>"` (e.g. `"headers:X-Api-Key"`). A secret row is known
by its key within its list, so a list holds at most one secret row per key. Secret values are
sent exactly as typed: no `$$` replacement inside them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

from .masking import looks_like_credential
from .templating import TOKEN_RE

ROW_LISTS = ("headers", "params", "oauth_extra", "account_values")
SECRET_ROWS = "secret_rows"
ROW_LABELS = {
    "headers": "header",
    "params": "parameter",
    "oauth_extra": "extra pair",
    "account_values": "account value",
}


class KeyValueRow(NamedTuple):
    key: str
    value: str
    secret: bool = False


class MissingSecretValue(ValueError):
    """A row is marked secret but no value is saved for it (e.g. the keys were lost)."""


def secret_name(list_name: str, key: str) -> str:
    """The row's name in the provider's encrypted secrets."""
    return f"{list_name}:{key}"


def secret_keys(config: Mapping, list_name: str) -> set[str]:
    return set((config.get(SECRET_ROWS) or {}).get(list_name, []))


def rows_of(config: Mapping, list_name: str) -> list[KeyValueRow]:
    """A saved list as rows, secret ones flagged (their value is not in the config)."""
    secret = secret_keys(config, list_name)
    return [KeyValueRow(key, value, key in secret) for key, value in config.get(list_name) or []]


def split(rows: list[KeyValueRow]) -> tuple[list[list[str]], list[str]]:
    """The pairs a configuration stores (secret values blanked) and its secret keys."""
    pairs = [[row.key, "" if row.secret else row.value] for row in rows]
    return pairs, [row.key for row in rows if row.secret]


def resolved(config: Mapping, secrets: Mapping[str, str], list_name: str) -> Iterator[KeyValueRow]:
    """The rows as they are sent: secret values filled in from the decrypted secrets."""
    secret = secret_keys(config, list_name)
    for key, value in config.get(list_name) or []:
        if key not in secret:
            yield KeyValueRow(key, value)
            continue
        name = secret_name(list_name, key)
        if not secrets.get(name):
            label = ROW_LABELS[list_name]
            raise MissingSecretValue(f"no saved value for the secret {label} {key!r}")
        yield KeyValueRow(key, secrets[name], True)


def credential_notices(config: Mapping) -> list[str]:
    """Plain values whose name looks like a credential: the provider page asks the admin to
    mark them secret (derived from the configuration, so a notice goes once it is marked)."""
    notices = []
    for list_name in ROW_LISTS:
        for row in rows_of(config, list_name):
            if row.secret or not row.value or not looks_like_credential(row.key):
                continue
            notice = (
                f"The {ROW_LABELS[list_name]} “{row.key}” looks like a credential: mark it secret."
            )
            if TOKEN_RE.search(row.value):
                notice += (
                    " Its value uses $$ replacements, which a secret value does not take: "
                    "type the value itself when you mark it."
                )
            notices.append(notice)
    return notices
