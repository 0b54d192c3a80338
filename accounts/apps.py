from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """Login, roles (Admin, Marketer) and user management commands."""

    name = "accounts"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, dispatch_uid="accounts.sync_roles")


def _sync_roles(sender, **kwargs) -> None:
    from .roles import sync_roles

    sync_roles()
