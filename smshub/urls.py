"""The root URLconf: each app's urls module lists its own pages; this one only includes them."""

from __future__ import annotations

from django.urls import include, path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", include("stats.urls")),
    path("", include("callbacks.urls")),
    path("accounts/", include("accounts.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("audiences/", include("audiences.urls")),
    path("settings/channels/sms/providers/", include("providers.urls")),
    path("sandbox/", include("sandbox.urls")),
    path("settings/audit-log/", include("audit.urls")),
]

handler403 = "smshub.views.error_403"
handler404 = "smshub.views.error_404"
handler500 = "smshub.views.error_500"
