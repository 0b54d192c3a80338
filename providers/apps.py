from __future__ import annotations

from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    """SMS providers: their setup (admin pages), payload templates and senders."""

    name = "providers"
