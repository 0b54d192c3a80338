"""What every provider sender returns, and how an HTTP answer is classified (SPEC §3.4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

BODY_KEPT = 2000  # characters of a provider's answer shown to an admin
ERROR_KEPT = 500  # characters kept on a message's last error


@dataclass(frozen=True)
class ShownRequest:
    """A request as an admin may see it: credentials masked."""

    method: str
    url: str
    headers: dict[str, str]
    body: str


@dataclass(frozen=True)
class SendResult:
    """The outcome of one request to a provider.

    `retryable` is true for network errors, timeouts, 429 and 5xx; `auth_failed` when the
    provider's credentials could not be used (OAuth token endpoint failing).
    """

    ok: bool
    status: int | None = None
    body: str = ""
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None
    auth_failed: bool = False
    provider_message_ids: tuple[str, ...] = ()
    request: ShownRequest | None = field(default=None, compare=False)


def classify(response: requests.Response, request: ShownRequest | None = None) -> SendResult:
    """Success is any 2xx; 429 and 5xx may be retried; any other status is final."""
    status = response.status_code
    body = response.text[:BODY_KEPT]
    if 200 <= status < 300:
        return SendResult(ok=True, status=status, body=body, request=request)
    retryable = status == 429 or status >= 500
    return SendResult(
        ok=False,
        status=status,
        body=body,
        error=f"HTTP {status}: {body[:ERROR_KEPT]}".rstrip(": "),
        retryable=retryable,
        retry_after=retry_after_seconds(response) if retryable else None,
        request=request,
    )


def network_failure(exc: requests.RequestException, request: ShownRequest | None) -> SendResult:
    kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
    return SendResult(
        ok=False, error=f"Request {kind}: {exc}"[:ERROR_KEPT], retryable=True, request=request
    )


def retry_after_seconds(response: requests.Response) -> float | None:
    """The Retry-After header in seconds (it may be a number or an HTTP date)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


@sensitive_variables()
def exchange(
    method: str,
    url: str,
    *,
    key: str,
    headers: dict[str, str],
    body: bytes | None,
    auth: tuple[str, str] | None,
    shown: ShownRequest,
) -> tuple[requests.Response | None, SendResult]:
    """Send one request through the outbound seam and classify the answer; the response is
    None when no answer came (blocked address, network error, timeout)."""
    from smshub import http

    try:
        response = http.request(method, url, key=key, headers=headers, data=body, auth=auth)
    except http.OutboundBlocked as exc:
        return None, SendResult(ok=False, error=str(exc), request=shown)
    except requests.RequestException as exc:
        return None, network_failure(exc, shown)
    return response, classify(response, shown)


def auth_failure(exc: Exception, shown: ShownRequest | None) -> SendResult:
    """The provider's credentials could not be used (its OAuth token endpoint failed)."""
    return SendResult(
        ok=False,
        error=f"Authentication failing: {exc}",
        retryable=True,
        auth_failed=True,
        request=shown,
    )
