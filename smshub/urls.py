from __future__ import annotations

from django.urls import include, path

from callbacks import pages as callback_pages
from campaigns.views import tracked_link

from . import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("healthz", views.healthz, name="healthz"),
    path("l/<str:code>", tracked_link, name="tracked-link"),
    path("accounts/", include("accounts.urls")),
    path("", include("stats.urls")),
    path("campaigns/<int:pk>/events/", callback_pages.campaign_events, name="campaign-events"),
    path("campaigns/", include("campaigns.urls")),
    path("audiences/", include("audiences.urls")),
    path("callbacks/", include("callbacks.urls")),
    path(
        "settings/channels/sms/providers/<int:pk>/events/",
        callback_pages.provider_events,
        name="provider-events",
    ),
    path("settings/channels/sms/providers/", include("providers.urls")),
    path("settings/callbacks/", callback_pages.request_list, name="callback-requests"),
    path("settings/callbacks/<int:pk>/", callback_pages.request_detail, name="callback-request"),
    path(
        "settings/callbacks/<int:pk>/reprocess/",
        callback_pages.reprocess,
        name="callback-reprocess",
    ),
    path("sandbox/", include("sandbox.urls")),
    path("settings/audit-log/", include("audit.urls")),
]

handler403 = "smshub.views.error_403"
handler404 = "smshub.views.error_404"
handler500 = "smshub.views.error_500"
