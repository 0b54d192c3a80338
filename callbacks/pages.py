"""Pages about callbacks: event logs per campaign and per provider, and the admins' list of
recent callback requests (with Reprocess)."""

from __future__ import annotations

from django.http import HttpResponse


def campaign_events(request, pk: int):
    return HttpResponse("todo")


def provider_events(request, pk: int):
    return HttpResponse("todo")


def request_list(request):
    return HttpResponse("todo")
