"""Provider operations (SPEC §2.3). Each runs in one transaction and writes the audit log."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audit import services as audit

from . import registry, secret_rows
from .base import OutgoingMessage, SendResult, not_rendered
from .forms import ProviderForm
from .masking import looks_like_credential
from .models import Provider, new_callback_token
from .templating import MissingReplacement, campaign_values, message_values

# Message ids start at 1: a test SMS carries the id 0, which no message has.
TEST_MESSAGE_ID = 0

SECRET_PREFIX = "secret:"


@sensitive_variables()
def _snapshot(provider: Provider) -> dict:
    """Flat view of a provider for audit diffs; secrets appear only as opaque markers.

    Secret row values are not in the configuration (providers/secret_rows.py); a plain value
    whose name looks like a credential (one not marked secret yet) is hidden the same way: the
    log says it changed, never what it is."""
    state = {"nickname": provider.nickname, "is_default": provider.is_default}
    state.update({f"config.{k}": v for k, v in provider.config.items()})
    for list_name in secret_rows.ROW_LISTS:
        pairs = provider.config.get(list_name) or []
        hidden = {k: v for k, v in pairs if v and looks_like_credential(k)}
        if hidden:
            state[f"config.{list_name}"] = [[k, "(hidden)" if k in hidden else v] for k, v in pairs]
            state.update({f"{SECRET_PREFIX}{list_name}:{k}": v for k, v in hidden.items()})
    secrets = provider.readable_secrets() or {}
    state.update({SECRET_PREFIX + k: v for k, v in secrets.items()})
    return state


def _diff(before: dict, after: dict) -> dict:
    secret_names = {k for k in before | after if k.startswith(SECRET_PREFIX)}
    return audit.diff(before, after, secret_names)


@sensitive_variables()
@transaction.atomic
def save_from_form(form: ProviderForm, actor) -> Provider:
    """Create or update the form's provider from its cleaned data."""
    provider = form.provider or Provider(kind=form.kind)
    before = _snapshot(provider) if provider.pk else {}
    provider.nickname = form.cleaned_data["nickname"]
    provider.config = form.to_config()
    if not provider.pk:
        provider.callback_token = form.cleaned_data["callback_token"]
    kept = (provider.readable_secrets() or {}) if provider.pk else {}
    typed = form.typed_secrets()
    provider.set_secrets({name: typed[name] or kept.get(name, "") for name in typed})
    provider.save()
    if form.cleaned_data.get("is_default"):
        _make_default(provider, actor)
    elif provider.is_default:
        Provider.objects.filter(pk=provider.pk).update(is_default=False)
        provider.is_default = False
    ensure_a_default()
    provider.refresh_from_db()
    changes = _diff(before, _snapshot(provider))
    if changes or not before:
        audit.record(actor, "updated" if before else "created", provider, changes)
    return provider


def _make_default(provider: Provider, actor) -> None:
    # Clear first: the partial unique index allows one default row at a time.
    for previous in Provider.objects.filter(is_default=True).exclude(pk=provider.pk):
        Provider.objects.filter(pk=previous.pk).update(is_default=False)
        audit.record(actor, "unmarked default", previous, {"is_default": [True, False]})
    Provider.objects.filter(pk=provider.pk).update(is_default=True)
    provider.is_default = True


def ensure_a_default() -> None:
    """Exactly one active provider is the default whenever any is active (SPEC §2.3):
    when none is, the oldest active provider becomes it."""
    active = Provider.objects.active().select_for_update()
    if active.exists() and not active.filter(is_default=True).exists():
        oldest = active.order_by("created_at", "pk").first()
        Provider.objects.filter(pk=oldest.pk).update(is_default=True)


@transaction.atomic
def mark_default(provider: Provider, actor) -> None:
    if provider.is_archived:
        raise ValueError("An archived provider cannot be the default.")
    if provider.is_default:
        return
    _make_default(provider, actor)
    audit.record(actor, "marked default", provider, {"is_default": [False, True]})


@transaction.atomic
def archive(provider: Provider, actor) -> None:
    """Irreversible: the provider can no longer be chosen or edited; its stats stay. Its
    campaigns are stopped by campaigns.retire, which calls this."""
    if provider.is_archived:
        return
    provider.archived_at = timezone.now()
    was_default = provider.is_default
    provider.is_default = False
    provider.save(update_fields=["archived_at", "is_default", "updated_at"])
    if was_default:
        ensure_a_default()
    audit.record(actor, "archived", provider, {"status": ["Active", "Archived"]})


@transaction.atomic
def delete(provider: Provider, actor) -> None:
    """Removes the provider, its credentials and its messages (the database deletes them);
    its campaigns stay, without a provider (campaigns.retire stops them first)."""
    audit.record(actor, "deleted", provider)
    was_default = provider.is_default
    provider.delete()
    if was_default:
        ensure_a_default()


@transaction.atomic
def rotate_callback_token(provider: Provider, actor) -> None:
    """A new callback URL; the old one stops working at once."""
    provider.callback_token = new_callback_token()
    provider.save(update_fields=["callback_token", "updated_at"])
    audit.record(actor, "rotated callback URL", provider)


@sensitive_variables()
def send_test_sms(
    kind: str,
    config: dict,
    secrets: dict,
    *,
    callback_url: str,
    to: str,
    message: str,
    custom_values: dict[str, str],
    session_key: str,
    shared_values: dict | None = None,
) -> SendResult:
    """Send one message synchronously and return what was sent and answered (SPEC §2.3).

    Works on a saved provider's configuration or on a setup form's unsaved one. The
    `$$MessageID` of a test is a valid token for no message, so its callbacks stay unmatched.
    A campaign's test passes its own `shared_values` (template id, campaign id, …).
    """
    shared = shared_values or campaign_values("test", custom=custom_values)
    sender = registry.kinds()[kind].sender(
        config,
        secrets,
        callback_url=callback_url,
        campaign_values=shared,
        session_key=session_key,
    )
    values = {**shared, **message_values(TEST_MESSAGE_ID, message, custom_values)}
    outgoing = OutgoingMessage(id=TEST_MESSAGE_ID, to=to, values=values)
    try:
        request = next(iter(sender.requests([outgoing])))
    except (MissingReplacement, ValueError) as exc:  # UnsafeHeader is a ValueError
        return not_rendered(exc)
    result = sender.send(request)
    # A batch answer's item for the message says how it fared (SPEC §5.2).
    return result.per_message[0] if result.per_message else result
