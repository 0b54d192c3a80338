"""Pages about callbacks: event logs per campaign and per provider, and the admins' list of
recent callback requests (with Reprocess)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from accounts.roles import MANAGE_CAMPAIGNS, MANAGE_PROVIDERS, VIEW_PROVIDER_STATS
from campaigns.models import Campaign
from providers.models import Provider
from smshub import jsonsafe

from . import intake
from .models import CallbackRequest, Event
from .page_forms import EventFilterForm, RequestFilterForm

logger = logging.getLogger(__name__)

PER_PAGE = 50
# A request may carry 10,000 events and 5 MB: its page shows the start of both.
REQUEST_EVENTS_SHOWN = 200
BODY_SHOWN = 100_000  # characters

marketers = permission_required(MANAGE_CAMPAIGNS, raise_exception=True)
stats_viewers = permission_required(VIEW_PROVIDER_STATS, raise_exception=True)
admin_only = permission_required(MANAGE_PROVIDERS, raise_exception=True)


# --- event logs --------------------------------------------------------------------------------
@marketers
def campaign_events(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    events = Event.objects.filter(campaign=campaign).select_related("provider")
    return _event_log(request, "callbacks/campaign_events.html", events, {"campaign": campaign})


@stats_viewers
def provider_events(request, pk: int):
    # Marketers reach this page too: the template shows the nickname, never the configuration.
    provider = get_object_or_404(Provider, pk=pk)
    events = Event.objects.filter(provider=provider).select_related("campaign")
    return _event_log(request, "callbacks/provider_events.html", events, {"provider": provider})


def _event_log(request, template: str, events: QuerySet[Event], context: dict):
    """One page of events, newest first, optionally of one type. htmx (the type select) gets
    the log region only, and the address bar gets the filter's canonical URL."""
    form = EventFilterForm(request.GET)
    if form.is_valid():
        event_type = form.cleaned_data["type"]
    else:
        event_type, form = "", EventFilterForm()  # an unknown type shows every event
    if event_type:
        events = events.filter(type=event_type)
    # (-ts, -id) walks the (campaign|provider, type, ts) indexes backwards.
    page = Paginator(events.order_by("-ts", "-id"), PER_PAGE).get_page(request.GET.get("page"))
    filters = _query({"type": event_type})
    context = {
        **context,
        "form": form,
        "page": page,
        "event_type": event_type,
        "event_type_label": dict(form.fields["type"].choices).get(event_type, ""),
        "filters": filters,
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{template}#event-log", context)
        return push_url(response, request.path + (f"?{filters}" if filters else ""))
    return render(request, template, context)


def _query(params: dict) -> str:
    """The filter part of a page's URL (empty values left out), kept by the page links."""
    return urlencode({key: value for key, value in params.items() if value})


# --- callback requests (admins) ---------------------------------------------------------------
@admin_only
def request_list(request):
    form = RequestFilterForm(request.GET)
    form.is_valid()  # a bad value filters nothing; the field says what was wrong
    provider = form.cleaned_data.get("provider")
    status = form.cleaned_data.get("status", "")
    # The body can be megabytes: the list never loads it.
    rows = CallbackRequest.objects.select_related("provider").defer("body", "signature", "url")
    if provider:
        rows = rows.filter(provider=provider)
    if status:
        rows = rows.filter(status=status)
    page = Paginator(rows.order_by("-received_at", "-id"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    filters = _query({"provider": provider.pk if provider else "", "status": status})
    context = {"form": form, "page": page, "filters": filters, "filtered": bool(filters)}
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "callbacks/request_list.html#request-log", context)
        return push_url(response, request.path + (f"?{filters}" if filters else ""))
    return render(request, "callbacks/request_list.html", context)


@dataclass(frozen=True)
class ShownBody:
    text: str
    is_json: bool
    truncated: bool
    size: int  # bytes as received


def shown_body(body: bytes) -> ShownBody:
    """A request body as an admin reads it: JSON pretty-printed, anything else as text
    (undecodable bytes replaced), cut after BODY_SHOWN characters."""
    text = body.decode("utf-8", errors="replace")
    is_json = False
    try:
        text = json.dumps(jsonsafe.loads(text), indent=2, ensure_ascii=False)
        is_json = True
    except ValueError:
        pass
    return ShownBody(text[:BODY_SHOWN], is_json, len(text) > BODY_SHOWN, len(body))


@admin_only
def request_detail(request, pk: int):
    row = get_object_or_404(CallbackRequest.objects.select_related("provider"), pk=pk)
    events = row.events.select_related("campaign").order_by("-ts", "-id")
    return render(
        request,
        "callbacks/request_detail.html",
        {
            "row": row,
            "body": shown_body(bytes(row.body)),
            "events": events[:REQUEST_EVENTS_SHOWN],
            "event_count": events.count(),
        },
    )


@admin_only
@require_POST
def reprocess(request, pk: int):
    """Read a stored request again. Its events already recorded are duplicates, so nothing is
    counted twice; a request that failed on our side gets its events now."""
    try:
        outcome = intake.reprocess(pk)
    except Exception as exc:  # our bug or outage: the request stays as it was, for a retry
        logger.exception("reprocessing callback request %s failed", pk)
        messages.error(
            request, f"Reprocessing failed on our side ({type(exc).__name__}). Try again later."
        )
        return redirect("callback-request", pk=pk)
    if outcome is None:
        raise Http404("No such callback request")
    if outcome.counts is not None:
        counts = outcome.counts
        messages.success(
            request,
            f"Reprocessed: {_count(counts.processed, 'event')} processed, "
            f"{_count(counts.duplicates, 'duplicate')} (already recorded), "
            f"{counts.unmatched:,} unmatched.",
        )
    else:
        messages.warning(
            request,
            f"Reprocessed: rejected (HTTP {outcome.status}). {outcome.message} "
            "Nothing from it was recorded.",
        )
    return redirect("callback-request", pk=pk)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
