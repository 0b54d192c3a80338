"""Posting the sandbox's simulated callbacks to the real callback endpoint (SPEC §3.6, §6).

The callbacks go out over HTTP, through the same seam as every provider request and into
the same endpoint a real provider posts to, so the sandbox exercises the whole loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import requests
from django.core.cache import cache

from campaigns.compose import link_base
from providers.models import Provider
from smshub import http

from . import native
from .simulate import Submitted, callback_payloads

logger = logging.getLogger(__name__)
SESSION_KEY = "sandbox"
VISITS_REMEMBERED = 7 * 24 * 3600  # seconds: longer than any retry of a task


class TryAgain(Exception):
    """The endpoint could not take the callbacks now (no connection, 429 or 5xx)."""


def post(provider_id: int, messages: Sequence[dict], received_ms: int, style: str = "") -> int:
    """Post the callbacks of `messages` (dicts of Submitted's fields) to the provider's
    callback URL, in the reference's format or, for `style` "infobip", in Infobip's (where
    a click is a visit of the tracked link); returns how many requests the endpoint accepted.
    Raises TryAgain on a transient failure: posting everything again is safe, the endpoint
    counts a repeated event once. Refusals (4xx) are logged and end the attempt."""
    provider = Provider.objects.filter(pk=provider_id).first()
    if provider is None:
        logger.info("sandbox: provider %s is gone, its callbacks are dropped", provider_id)
        return 0
    submitted = [Submitted(**message) for message in messages]
    opened: list[tuple[str, str]] = []
    if style == native.STYLE:
        payloads, opened = native.report_payloads(submitted, received_ms, link_base=link_base())
    else:
        payloads = callback_payloads(submitted, received_ms, link_base=link_base())
    accepted = 0
    for payload in payloads:
        try:
            response = http.request(
                "POST",
                provider.callback_url,
                key=SESSION_KEY,
                headers={"Content-Type": "application/json"},
                data=json.dumps(payload).encode(),
            )
        except http.OutboundBlocked as exc:
            logger.warning(
                "sandbox: callbacks not posted: %s (BLOCK_PRIVATE_ADDRESSES refuses the "
                "hub's own local address)",
                exc,
            )
            return accepted
        except requests.RequestException as exc:
            raise TryAgain(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TryAgain(f"the callback endpoint answered {response.status_code}")
        if response.status_code >= 300:
            logger.warning(
                "sandbox: the callback endpoint refused the callbacks of provider %s: %s %s",
                provider_id,
                response.status_code,
                response.text[:300],
            )
            return accepted
        accepted += 1
    _visit(opened)
    return accepted


def _visit(links: Sequence[tuple[str, str]]) -> None:
    """Open tracked links as phones do: after every report went through, and once per message
    even if the task runs again (a second visit would be a second click)."""
    for ref, link in links:
        if not cache.add(f"sandbox:opened:{ref}", True, VISITS_REMEMBERED):
            continue
        try:
            http.request("GET", link, key=SESSION_KEY)
        except (http.OutboundBlocked, requests.RequestException) as exc:
            logger.warning("sandbox: a tracked link was not opened: %s", exc)
            return
