from __future__ import annotations

from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    """Providers' delivery, click and reply callbacks (built by the callbacks issue)."""

    name = "callbacks"
