"""The overview and the Stats and Errors tabs of campaigns and providers (SPEC §10: the Stats
paths are public). The tabs' names are in the `stats` namespace; the overview's is not."""

from __future__ import annotations

from django.urls import include, path

from . import views

PROVIDER = "settings/channels/sms/providers/<int:pk>"

tabs = [
    path("campaigns/<int:pk>/stats/", views.campaign_stats, name="campaign"),
    path("campaigns/<int:pk>/stats/errors/", views.campaign_errors, name="campaign-errors"),
    path(f"{PROVIDER}/stats/", views.provider_stats, name="provider"),
    path(f"{PROVIDER}/stats/errors/", views.provider_errors, name="provider-errors"),
]

urlpatterns = [
    path("", views.overview, name="overview"),
    path("", include((tabs, "stats"))),
]
