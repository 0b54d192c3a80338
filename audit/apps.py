from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who changed what, when: an append-only log that never holds secret values."""

    name = "audit"
