"""A per-provider rate limit shared by every worker on every machine (SPEC §3.4).

Celery's `rate_limit` counts per worker; this counts per provider. Each request takes the
next free slot from the provider's `ProviderPace` row in one short locked transaction and
sleeps until that slot: slots are 1/rate apart, so no one-second window ever holds more than
`rate` requests (plus the one whose slot starts it). Worker clocks must agree (NTP), as they
already must for scheduled campaigns.

A request can leave a little after its slot (a busy core, a worker's first connection), and
the next ones on time, which crowds a second. Slots are spaced for HEADROOM x the rate,
and a worker that finds itself more than half an interval late for its slot (it waited
for the lock, or for a core) leaves that slot unused and takes the next free one (the
benchmark B7 saw 52 requests in a second at a limit of 50 without these), a few times at
most: a limit tighter than a reservation's round trip would otherwise never be met.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from .models import ProviderPace

HEADROOM = 0.98
# Slots a worker leaves unused in a row for being late before it sends on the next anyway.
MAX_SKIPPED_SLOTS = 4


def wait_for_slot(provider_id: int, requests_per_second: float | None) -> float:
    """Block until this worker may send one request to the provider; return the seconds
    waited. No limit set → returns at once without touching the database."""
    if not requests_per_second:
        return 0.0
    interval = 1.0 / (requests_per_second * HEADROOM)
    waited = 0.0
    for _ in range(MAX_SKIPPED_SLOTS):
        slot = _reserve(provider_id, interval)
        delay = slot - time.time()
        if delay > 0:
            time.sleep(delay)
            waited += delay
        if time.time() - slot <= interval / 2:
            return waited
        # Late for this slot (a lock wait, a busy core): sending now would crowd the next
        # slots' requests into one second. The slot is left unused; take the next free one.
    # Late every time: the limit is tighter than a reservation's own round trip (1000/s
    # against a busy database), so no slot can be met. Send on the last one rather than
    # loop for ever; the round trips themselves keep this worker under the limit.
    return waited


def _reserve(provider_id: int, interval: float) -> float:
    """The next free slot of the provider, in one short locked transaction."""
    now = time.time()
    with transaction.atomic():
        ProviderPace.objects.get_or_create(provider_id=provider_id)
        pace = ProviderPace.objects.filter(provider_id=provider_id)
        pace.update(next_slot=Greatest(F("next_slot"), Value(now)) + interval)
        return pace.values_list("next_slot", flat=True).get() - interval
