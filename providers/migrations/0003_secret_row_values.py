"""Existing plain credentials in key/value rows become secret rows (SPEC §5.2).

Before, a Generic provider's header, parameter and OAuth extra-pair values were all stored in
plain text in `config`. Values whose name looks like a credential (X-Api-Key, apikey,
access_key, auth_token, client_secret, password, passwd, pwd, …: providers.masking) move into
the encrypted secrets as `"<list>:<key>"` and their row is listed under
`config["secret_rows"]`, as the setup form saves a row marked secret. Left plain, for the
provider page's notice to ask the admin ("… looks like a credential: mark it secret"):

- a value holding `$$` replacements (a secret value is sent exactly as typed);
- a key used by several rows of one list (a secret row is known by its key);
- every value of a provider whose saved secrets the current ENCRYPTION_KEYS cannot read.

Reversing puts every secret row's value back in `config` (the old code reads nothing else).
"""

from collections import Counter

from django.db import migrations

from providers.masking import looks_like_credential
from providers.templating import TOKEN_RE
from smshub import crypto

ROW_LISTS = ("headers", "params", "oauth_extra")
SECRET_ROWS = "secret_rows"


def credentials_made_secret(config: dict, secrets: dict) -> tuple[dict, dict, list[str]]:
    """The configuration and secrets with plain credential values moved into the secrets,
    and the secret names moved (none: nothing to save)."""
    config, secrets = dict(config), dict(secrets)
    marked = {name: list(keys) for name, keys in (config.get(SECRET_ROWS) or {}).items()}
    moved = []
    for list_name in ROW_LISTS:
        pairs = [list(pair) for pair in config.get(list_name) or []]
        uses = Counter(key for key, _ in pairs)
        for pair in pairs:
            key, value = pair
            if (
                key in marked.get(list_name, [])
                or not value
                or not looks_like_credential(key)
                or TOKEN_RE.search(value)
                or uses[key] > 1
            ):
                continue
            name = f"{list_name}:{key}"
            secrets[name] = value
            pair[1] = ""
            marked.setdefault(list_name, []).append(key)
            moved.append(name)
        config[list_name] = pairs
    if moved:
        config[SECRET_ROWS] = marked
    return config, secrets, moved


def secrets_made_plain(config: dict, secrets: dict) -> tuple[dict, dict]:
    """The reverse: every secret row's value back in the configuration."""
    config, secrets = dict(config), dict(secrets)
    marked = config.pop(SECRET_ROWS, None) or {}
    for list_name, keys in marked.items():
        pairs = [list(pair) for pair in config.get(list_name) or []]
        for pair in pairs:
            if pair[0] in keys:
                pair[1] = secrets.pop(f"{list_name}:{pair[0]}", "")
        config[list_name] = pairs
    return config, secrets


def make_credentials_secret(apps, schema_editor):
    Provider = apps.get_model("providers", "Provider")
    for provider in Provider.objects.filter(kind="generic").order_by("pk"):
        try:
            secrets = crypto.decrypt_json(provider.secrets_encrypted)
        except crypto.InvalidToken:
            continue
        config, secrets, moved = credentials_made_secret(provider.config, secrets)
        if moved:
            provider.config = config
            provider.secrets_encrypted = crypto.encrypt_json(secrets)
            provider.save(update_fields=["config", "secrets_encrypted"])


def make_secrets_plain(apps, schema_editor):
    Provider = apps.get_model("providers", "Provider")
    for provider in Provider.objects.filter(kind="generic").order_by("pk"):
        if SECRET_ROWS not in provider.config:
            continue
        try:
            secrets = crypto.decrypt_json(provider.secrets_encrypted)
        except crypto.InvalidToken:
            continue
        provider.config, secrets = secrets_made_plain(provider.config, secrets)
        provider.secrets_encrypted = crypto.encrypt_json(secrets)
        provider.save(update_fields=["config", "secrets_encrypted"])


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0002_dispatch_status_and_pace"),
    ]

    operations = [
        migrations.RunPython(make_credentials_secret, make_secrets_plain),
    ]
