from __future__ import annotations

from django.apps import AppConfig


class SmsHubConfig(AppConfig):
    name = "smshub"
    verbose_name = "SMS Hub"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
