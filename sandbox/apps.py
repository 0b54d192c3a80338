from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """A simulated SMS provider served by the hub itself (SPEC §3.6)."""

    name = "sandbox"
