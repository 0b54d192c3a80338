from __future__ import annotations

from django.apps import AppConfig


class AudiencesConfig(AppConfig):
    """Contact lists, their CSV imports, and who opted out."""

    name = "audiences"
