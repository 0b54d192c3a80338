from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Audiences, campaigns and their messages (built by the campaigns issue)."""

    name = "campaigns"
