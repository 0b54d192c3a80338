"""The sandbox provider (SPEC §3.6): a Generic provider whose endpoint is this hub's own
`/sandbox/sms/`, set up through the same form and service as any provider an admin adds.

The sandbox provider is recognised by its `X-Sandbox-Key` header, so an admin may rename it
or edit it like any other provider without `ensure_sandbox` losing track of it. The header's
value is a secret row (providers/secret_rows.py): encrypted, never shown.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from audit.models import AuditEntry
from campaigns.models import Message
from providers import message_ids, registry, secret_rows
from providers import services as provider_services
from providers.fields import as_rows
from providers.kinds.generic.form import GenericProviderForm
from providers.kinds.generic.kind import GenericKind
from providers.kinds.generic.report_form import report_initial
from providers.models import Provider
from smshub import http

from . import native
from .keys import HEADER, sandbox_key

ROW_LISTS = secret_rows.ROW_LISTS

NICKNAME = "Sandbox (simulated)"
# The second mode (sandbox/native.py): the provider's own reports, read by its mapping.
NATIVE_NICKNAME = "Sandbox (provider's own reports)"
BATCH_KEY = "messages"
RECORDS_PER_BATCH = 1000
JSON_BODY = (
    '{"sender": "SMSHUB", "messages": [{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}]}'
)
MESSAGE_ID_PATH = "$.messages[*].id"
SUCCESS_RULE = "$.accepted"


def endpoint() -> str:
    return settings.SITE_URL + reverse("sandbox:send")


def config(style: str = "") -> dict:
    """The sandbox provider's settings as its setup form takes them, for the current SITE_URL
    and SECRET_KEY (the key header is a secret row); with a `style`, the second mode's: a
    header asking for reports in that format, and the Delivery reports section reading them."""
    headers = [secret_rows.KeyValueRow(HEADER, sandbox_key(), secret=True)]
    if style:
        headers.append(secret_rows.KeyValueRow(native.STYLE_HEADER, style))
    mapping = report_initial(native.MAPPING) if style else {}
    return {
        **mapping,
        "request_type": "POST",
        "endpoint": endpoint(),
        "auth_type": "none",
        "headers": headers,
        "body_format": "json",
        "json_body": JSON_BODY,
        "batching": True,
        "batch_key": BATCH_KEY,
        "records_per_batch": RECORDS_PER_BATCH,
        "number_format": "e164",
        "success_rule": SUCCESS_RULE,
        "message_id_path": MESSAGE_ID_PATH,
    }


def form_data(nickname: str, config: dict) -> QueryDict:
    """A Generic provider's settings as its setup form posts them: key/value rows as repeated
    `<name>-key`/`<name>-value` (and `<name>-secret` with the index of each secret row, from
    a KeyValueRow or a saved configuration's `secret_rows`), booleans as "on"."""
    data = QueryDict(mutable=True)
    data["nickname"] = nickname
    for name, value in config.items():
        if name == secret_rows.SECRET_ROWS:
            continue
        if isinstance(value, list):
            saved_secret = secret_rows.secret_keys(config, name)
            for index, row in enumerate(as_rows(value)):
                data.appendlist(f"{name}-key", row.key)
                data.appendlist(f"{name}-value", row.value)
                if row.secret or row.key in saved_secret:
                    data.appendlist(f"{name}-secret", str(index))
        elif value is True:
            data[name] = "on"
        elif value is not None and value is not False:
            data[name] = str(value)
    return data


def is_sandbox(provider: Provider) -> bool:
    headers = provider.config.get("headers", [])
    return registry.kind_of(provider) is GenericKind and any(
        name.lower() == HEADER.lower() for name, _ in headers
    )


def style_of(provider: Provider) -> str:
    """The format a sandbox provider asks its reports in ("" for the reference's)."""
    headers = provider.config.get("headers", [])
    return next((v for k, v in headers if k.lower() == native.STYLE_HEADER.lower()), "")


def find_provider(*, active_only: bool = False, style: str = "") -> Provider | None:
    """The sandbox provider of a mode (the oldest, should an admin have copied it)."""
    providers = Provider.objects.filter(kind=GenericKind.key).order_by("created_at", "pk")
    if active_only:
        providers = providers.active()
    return next((p for p in providers if is_sandbox(p) and style_of(p) == style), None)


def provider_for(refs: Iterable[str]) -> Provider | None:
    """Whose messages a send request carries: the provider of the first message its refs
    name, else (a test SMS, whose ref names no message) the sandbox provider."""
    ids = set()
    for ref in refs:
        try:
            ids.add(message_ids.verify(ref))
        except message_ids.InvalidMessageId:
            continue
    provider_id = Message.objects.filter(id__in=ids).values_list("provider_id", flat=True)[:1]
    found = Provider.objects.filter(pk__in=list(provider_id)).first()
    return found or find_provider(active_only=True)


@dataclass(frozen=True)
class Ensured:
    provider: Provider | None
    summary: str  # one line saying what was done


def ensure_provider(*, recreate: bool = False, style: str = "") -> Ensured:
    """Create the sandbox provider (of the mode `style` names) on the first run; later, only
    keep its endpoint and key in step with SITE_URL and SECRET_KEY. It becomes the default
    only when it is the only provider (providers.services.ensure_a_default). A sandbox
    provider an admin deleted is not brought back unless `recreate`."""
    nickname = NATIVE_NICKNAME if style else NICKNAME
    provider = find_provider(style=style)
    if provider is None:
        if _was_deleted(nickname) and not recreate:
            who = f"Sandbox provider “{nickname}”" if style else "Sandbox provider"
            return Ensured(
                None,
                f"{who}: deleted or changed by an admin, not recreated "
                "(manage.py ensure_sandbox --recreate brings it back).",
            )
        return _create(nickname, style)
    if provider.is_archived:
        return Ensured(provider, f"Sandbox provider “{provider.nickname}”: archived, left alone.")
    return _update(provider)


def _create(nickname: str, style: str) -> Ensured:
    form = GenericProviderForm(form_data(nickname, config(style)))
    if not form.is_valid():
        return Ensured(None, f"Sandbox provider “{nickname}”: not created — {_errors(form)}")
    provider = provider_services.save_from_form(form, None)
    role = "the default provider" if provider.is_default else "another provider is the default"
    return Ensured(provider, f"Sandbox provider “{provider.nickname}”: created ({role}).")


def _update(provider: Provider) -> Ensured:
    current, secrets = provider.config, provider.readable_secrets() or {}
    changed = []
    if current.get("endpoint") != endpoint():
        changed.append("endpoint")
    if not _holds_key(current, secrets):
        changed.append("headers")
    if not changed:
        return Ensured(provider, f"Sandbox provider “{provider.nickname}”: up to date.")
    # The key header as a secret row holding this installation's key, and every other secret
    # posted again: a new endpoint (SITE_URL) asks for them all (SPEC §8).
    header = next(name for name, _ in current["headers"] if name.lower() == HEADER.lower())
    marked = {**(current.get(secret_rows.SECRET_ROWS) or {})}
    marked["headers"] = sorted(secret_rows.secret_keys(current, "headers") | {header})
    current = {**current, secret_rows.SECRET_ROWS: marked}
    secrets = {**secrets, secret_rows.secret_name("headers", header): sandbox_key()}
    try:
        rows = {name: list(secret_rows.resolved(current, secrets, name)) for name in ROW_LISTS}
    except secret_rows.MissingSecretValue as exc:
        return Ensured(provider, f"Sandbox provider “{provider.nickname}”: not updated — {exc}")
    wanted = {**current, **report_initial(current), **rows, "endpoint": endpoint()}
    form = GenericProviderForm(form_data(provider.nickname, wanted), provider=provider)
    if not form.is_valid():
        return Ensured(
            provider, f"Sandbox provider “{provider.nickname}”: not updated — {_errors(form)}"
        )
    provider_services.save_from_form(form, None)
    what = []
    if "endpoint" in changed:
        what.append(f"endpoint now {wanted['endpoint']}")
    if "headers" in changed:
        what.append("key renewed (SECRET_KEY changed)")
    return Ensured(provider, f"Sandbox provider “{provider.nickname}”: {', '.join(what)}.")


def _holds_key(config: dict, secrets: dict) -> bool:
    """The key header is a secret row holding this installation's key."""
    for row in secret_rows.rows_of(config, "headers"):
        if row.key.lower() == HEADER.lower():
            saved = secrets.get(secret_rows.secret_name("headers", row.key), "")
            return row.secret and hmac.compare_digest(saved.encode(), sandbox_key().encode())
    return False


def _was_deleted(nickname: str) -> bool:
    """The command created this sandbox provider before, and it is gone: only an admin's
    Delete removes a provider."""
    return AuditEntry.objects.filter(
        action="created", object_type="provider", object_repr=nickname, actor__isnull=True
    ).exists()


def _errors(form: GenericProviderForm) -> str:
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


def blocked_reason() -> str:
    """Why the hub would refuse to call its own sandbox endpoint (the SSRF guard,
    BLOCK_PRIVATE_ADDRESSES, refuses local addresses), or "" when it may."""
    try:
        http.check_url(endpoint())
    except http.OutboundBlocked as exc:
        return str(exc)
    return ""
