from __future__ import annotations

from django.apps import AppConfig


class StatsConfig(AppConfig):
    """Per-day rollups of sending and callbacks, and the figures read from them (SPEC §7)."""

    name = "stats"
