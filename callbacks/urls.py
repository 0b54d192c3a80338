"""The callback endpoint providers post to (`callbacks:receive`), the tracked-link redirect,
and the pages of received events and requests, each at its place in the site."""

from __future__ import annotations

from django.urls import include, path

from . import pages, views

endpoint = [path("sms/<str:token>/", views.receive, name="receive")]

urlpatterns = [
    path("callbacks/", include((endpoint, "callbacks"))),
    path("l/<str:code>", views.tracked_link, name="tracked-link"),
    path("campaigns/<int:pk>/events/", pages.campaign_events, name="campaign-events"),
    path(
        "settings/channels/sms/providers/<int:pk>/events/",
        pages.provider_events,
        name="provider-events",
    ),
    path("settings/callbacks/", pages.request_list, name="callback-requests"),
    path("settings/callbacks/<int:pk>/", pages.request_detail, name="callback-request"),
    path("settings/callbacks/<int:pk>/reprocess/", pages.reprocess, name="callback-reprocess"),
]
