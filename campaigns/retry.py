"""What happens to a message after one attempt (SPEC §3.4): a pure decision, no database.

Retryable failures (network, timeout, 429, 5xx) wait BASE * 3^(attempt-1) seconds with ±20 %
jitter, or the provider's Retry-After when that is longer, up to DISPATCH_MAX_ATTEMPTS
attempts (with the defaults: 5 attempts over about 13 minutes). Other failures are final.
While a provider's credentials cannot be used, messages are held as Dispatch Error
(authentication) and tried again every DISPATCH_AUTH_RETRY_INTERVAL seconds until
DISPATCH_AUTH_RETRY_WINDOW has passed since their first attempt; those tries do not count
as attempts, since nothing reached the provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from providers.base import SendResult

from .models import DispatchReason, MessageState

MAX_RETRY_AFTER = 3600.0  # a provider asking for more than an hour is not waited for longer


@dataclass(frozen=True)
class Decision:
    """The message's next state; `attempts_delta` undoes the claim's count when nothing was
    sent (authentication)."""

    state: str
    reason: str = ""
    next_attempt_at: datetime | None = None
    attempts_delta: int = 0


def backoff_seconds(attempt: int, retry_after: float | None = None, jitter: float = 1.0) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based); `jitter` is a factor
    drawn from 0.8 to 1.2 by the caller (once per group, so a group's retries share one time)."""
    delay = settings.DISPATCH_BACKOFF_BASE * 3 ** (attempt - 1)
    delay = min(delay, settings.DISPATCH_BACKOFF_MAX) * jitter
    if retry_after:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def decide(
    result: SendResult,
    *,
    attempts: int,
    first_attempt_at: datetime,
    now: datetime,
    jitter: float = 1.0,
) -> Decision:
    """`attempts` counts this attempt; `first_attempt_at` is when the message was first tried."""
    if result.ok:
        return Decision(MessageState.SENT)
    if result.auth_failed:
        window = timedelta(seconds=settings.DISPATCH_AUTH_RETRY_WINDOW)
        interval = timedelta(seconds=settings.DISPATCH_AUTH_RETRY_INTERVAL)
        retry_at = now + interval
        return Decision(
            MessageState.DISPATCH_ERROR,
            DispatchReason.AUTHENTICATION,
            retry_at if retry_at - first_attempt_at <= window else None,
            attempts_delta=-1,
        )
    if result.outcome_unknown:  # it reached the provider: sending again could send twice
        return Decision(MessageState.DISPATCH_ERROR, DispatchReason.OUTCOME_UNKNOWN)
    if result.retryable:
        if attempts < settings.DISPATCH_MAX_ATTEMPTS:
            delay = backoff_seconds(attempts, result.retry_after, jitter)
            return Decision(MessageState.QUEUED, next_attempt_at=now + timedelta(seconds=delay))
        return Decision(MessageState.DISPATCH_ERROR, DispatchReason.RETRIES_EXHAUSTED)
    if result.status is None:  # refused before any request: the SSRF guard
        return Decision(MessageState.DISPATCH_ERROR, DispatchReason.BLOCKED)
    return Decision(MessageState.DISPATCH_ERROR, DispatchReason.REJECTED)
