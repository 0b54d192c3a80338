"""The public endpoints: the callback endpoint providers post to (SPEC §6.1; nothing else is
reachable) and the tracked-link redirect recipients open (SPEC §4.1)."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns import links
from providers import registry
from providers.models import Provider

from . import clicks, intake, responses
from .models import CallbackRequest, RequestStatus
from .receivers.base import Outcome, answer

logger = logging.getLogger(__name__)
TOKEN_PREFIX = 8  # looked up by an index on the prefix, compared in constant time in full


def provider_for_token(token: str) -> Provider | None:
    """The provider whose callback token this is. The database finds candidates by a short
    prefix; the whole token is compared with hmac.compare_digest, so response times do not
    tell an attacker how much of a guess was right."""
    if len(token) < TOKEN_PREFIX:
        return None
    for provider in Provider.objects.filter(callback_token__startswith=token[:TOKEN_PREFIX]):
        if hmac.compare_digest(provider.callback_token.encode(), token.encode()):
            return provider
    return None


@csrf_exempt
@login_not_required
def receive(request, token: str):
    provider = provider_for_token(token)
    if provider is None:
        return responses.error(404, "Not Found")
    receiver = registry.kind_of(provider).receiver
    if receiver is None:  # the provider's kind sends no reports we can read
        return responses.error(404, "Not Found")
    allowed = ("GET", "POST") if receiver.accepts_get(provider) else ("POST",)
    if request.method not in allowed:
        response = responses.error(405, "Method Not Allowed")
        response["Allow"] = ", ".join(allowed)
        return response
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    body = request.read(settings.CALLBACK_MAX_BYTES + 1)
    if declared > settings.CALLBACK_MAX_BYTES or len(body) > settings.CALLBACK_MAX_BYTES:
        return responses.error(413, "Payload Too Large")
    row = CallbackRequest(
        provider=provider,
        received_at=timezone.now(),
        content_type=request.content_type or "",
        query=request.META.get("QUERY_STRING", ""),
        body=body,
        signature=request.headers.get(receiver.signature_header, ""),
        url=request.build_absolute_uri(),
        status=RequestStatus.RECEIVED,
    )
    try:
        with transaction.atomic():
            outcome = intake.process(row, provider)  # writes the row, with its outcome
            if outcome.status >= 400:
                transaction.set_rollback(True)  # a refused request changes nothing…
    except DatabaseError:
        logger.exception("callback of provider %s could not be stored", provider.pk)
        return responses.unavailable()
    except Exception:
        logger.exception("callback of provider %s could not be processed", provider.pk)
        return _keep_for_retry(row)
    if outcome.status >= 400:
        _keep_refused(row, outcome)  # …but is kept for the admin's request list
    return answer(receiver, outcome)


def _keep_for_retry(row: CallbackRequest) -> HttpResponse:
    """Our processing failed: store the raw request alone (it is retried automatically) and
    answer 500, so the provider retries too; deduplication makes the retry harmless."""
    try:
        row.pk = None
        row.status = RequestStatus.FAILED
        row.error = "Processing failed; retried automatically."
        row.save()
    except DatabaseError:
        return responses.unavailable()
    return responses.server_error()


def _keep_refused(row: CallbackRequest, outcome: Outcome) -> None:
    try:
        row.pk = None
        row.status = RequestStatus.REJECTED
        row.response_status = outcome.status
        row.error = outcome.message
        row.processed_events = row.duplicate_events = row.unmatched_events = 0
        row.save()
    except DatabaseError:
        logger.exception("a refused callback could not be kept")


@login_not_required
@require_http_methods(["GET", "HEAD"])
def tracked_link(request, code: str):
    """/l/<code>: count the click (people only) and send the visitor on (302)."""
    target = links.resolve(code)
    if target is None:
        return render(request, "callbacks/link_not_found.html", status=404)
    user_agent = request.headers.get("User-Agent", "")
    if not clicks.is_prefetch(request.method, user_agent):
        clicks.record(target, user_agent, request.build_absolute_uri())
    return HttpResponseRedirect(target.url)
