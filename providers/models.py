from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from smshub import crypto

from . import registry

# Public contract (SPEC §10): where providers post their callbacks.
CALLBACK_PATH = "/callbacks/sms/{token}/"


def new_callback_token() -> str:
    return secrets.token_urlsafe(32)


def kind_choices() -> list[tuple[str, str]]:
    """Provider.kind's choices: the registered kinds (a callable, so adding a kind needs no
    migration)."""
    return [(key, kind.label) for key, kind in registry.kinds().items()]


class ProviderQuerySet(models.QuerySet):
    def active(self) -> ProviderQuerySet:
        return self.filter(archived_at__isnull=True)

    def archived(self) -> ProviderQuerySet:
        return self.filter(archived_at__isnull=False)

    def default(self) -> Provider | None:
        return self.active().filter(is_default=True).first()


class Provider(models.Model):
    """An SMS provider set up by an admin.

    Kind-specific, non-secret settings live in `config` (their shape is owned by the kind's
    module in providers/kinds/); credentials live encrypted in `secrets_encrypted`.
    Deleting a provider removes the row; archiving keeps it (and its stats) read-only.
    """

    kind = models.CharField(max_length=20, choices=kind_choices)
    nickname = models.CharField(max_length=100)
    config = models.JSONField(default=dict)
    secrets_encrypted = models.TextField(blank=True, default="")
    is_default = models.BooleanField(default=False)
    callback_token = models.CharField(max_length=64, unique=True, default=new_callback_token)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set by the dispatch engine (campaigns/dispatch.py), shown on the provider list.
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    auth_failing_since = models.DateTimeField(null=True, blank=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["-is_default", Lower("nickname")]
        constraints = [
            models.UniqueConstraint(Lower("nickname"), name="provider_nickname_unique"),
            # Exactly one default is enforced in services; at most one by the database.
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="provider_single_default",
            ),
            models.CheckConstraint(
                condition=~models.Q(is_default=True, archived_at__isnull=False),
                name="provider_archived_not_default",
            ),
        ]
        permissions = [
            ("manage_providers", "Can set up, test, archive and delete SMS providers"),
            ("view_provider_stats", "Can view provider stats"),
        ]

    def __str__(self) -> str:
        return self.nickname

    def get_absolute_url(self) -> str:
        return reverse("providers:edit", args=[self.pk])

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def status(self) -> str:
        if self.is_archived:
            return "Archived"
        return "Default" if self.is_default else "Active"

    @property
    def callback_url(self) -> str:
        """Our absolute callback URL for this provider (SPEC §6.1)."""
        return settings.SITE_URL + CALLBACK_PATH.format(token=self.callback_token)

    @sensitive_variables()
    def get_secrets(self) -> dict:
        """The decrypted credentials; raises crypto.InvalidToken if no key can read them."""
        return crypto.decrypt_json(self.secrets_encrypted)

    @sensitive_variables()
    def readable_secrets(self) -> dict | None:
        """The credentials, or None when ENCRYPTION_KEYS lost the key they were saved with."""
        try:
            return self.get_secrets()
        except crypto.InvalidToken:
            return None

    @sensitive_variables()
    def set_secrets(self, values: dict) -> None:
        self.secrets_encrypted = crypto.encrypt_json({k: v for k, v in values.items() if v})


class ProviderPace(models.Model):
    """The next free sending slot of a rate-limited provider, shared by every worker
    (providers/pacing.py). Kept apart from Provider so pacing never locks the admin's row."""

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, primary_key=True)
    next_slot = models.FloatField(default=0.0)  # Unix time, seconds

    def __str__(self) -> str:
        return f"pace of provider {self.provider_id}"
