"""The Stats and Errors tabs of campaigns and providers (SPEC §10: the Stats paths are public)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "stats"

PROVIDER = "settings/channels/sms/providers/<int:pk>"

urlpatterns = [
    path("campaigns/<int:pk>/stats/", views.campaign_stats, name="campaign"),
    path("campaigns/<int:pk>/stats/errors/", views.campaign_errors, name="campaign-errors"),
    path(f"{PROVIDER}/stats/", views.provider_stats, name="provider"),
    path(f"{PROVIDER}/stats/errors/", views.provider_errors, name="provider-errors"),
]
