"""What every provider kind's sender takes and returns, and how an HTTP answer is classified
(SPEC §3.4)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol

import requests
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

BODY_KEPT = 2000  # characters of a provider's answer shown to an admin
ERROR_KEPT = 500  # characters kept on a message's last error


@dataclass(frozen=True)
class OutgoingMessage:
    """One recipient's message: its hub id, number (E.164) and per-message replacements
    (Body, MessageID, TemplateVariables, custom tokens personalised per recipient)."""

    id: int
    to: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    message_ids: tuple[int, ...]
    # The numbers as sent, in the order of message_ids: an answer that names its recipients
    # is matched to the messages by them (empty for kinds that do not need it).
    recipients: tuple[str, ...] = ()


class Sender(Protocol):
    """A kind's sender: turns a group of messages into requests, then sends each one."""

    def requests(self, messages: Sequence[OutgoingMessage]) -> Iterator[OutboundRequest]: ...

    def send(self, request: OutboundRequest) -> SendResult: ...


@dataclass(frozen=True)
class ShownRequest:
    """A request as an admin may see it: credentials masked."""

    method: str
    url: str
    headers: dict[str, str]
    body: str


class Cause(StrEnum):
    """Why no answer came back, for results without an HTTP status."""

    NONE = ""
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    BLOCKED = "blocked"  # the SSRF guard refused the address
    NOT_RENDERED = "not rendered"  # no request could be built for the message
    UNENCODABLE = "unencodable"  # the request could not be put on the wire
    NO_ANSWER_ITEM = "no answer item"  # a batch answer named no item for the message


@dataclass(frozen=True)
class SendResult:
    """The outcome of one request to a provider.

    `retryable` is true for network errors, timeouts, 429 and 5xx; `auth_failed` when the
    provider's credentials could not be used (OAuth token endpoint failing);
    `outcome_unknown` when the request reached the provider but its answer could not be
    read (larger than HTTP_MAX_ANSWER_BYTES, or a batch answer without an item for the
    message): it may have accepted the message, so the request is not sent again. `error`,
    `body` and `request` are for admins; `in_words` is what anyone may read (SPEC §8).
    `per_message`, when not empty, holds one result per message of the request, in the order
    of its message_ids: a batch answer that says how each message fared (SPEC §5.2).
    `explanation` is a refusal the kind knows, said in our words (never the provider's), so
    anyone may read it: Twilio's 21608, a trial account sending to an unverified number.
    """

    ok: bool
    status: int | None = None
    body: str = ""
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None
    auth_failed: bool = False
    outcome_unknown: bool = False
    provider_message_ids: tuple[str, ...] = ()
    request: ShownRequest | None = field(default=None, compare=False)
    cause: Cause = Cause.NONE
    per_message: tuple[SendResult, ...] = field(default=(), compare=False)
    explanation: str = ""

    @property
    def in_words(self) -> str:
        """The outcome in plain words: never the provider's endpoint, headers, parameters,
        credentials, answer or a raw network error, which only admins may see."""
        if self.ok:
            return "Accepted by the provider."
        if self.auth_failed:
            return (
                "Not sent: the provider's credentials could not be used. "
                "An admin must check the provider's setup."
            )
        if self.outcome_unknown:
            if self.cause == Cause.NO_ANSWER_ITEM:
                return "Outcome unknown: the provider's answer did not mention this message."
            return "Outcome unknown: the provider answered, but its answer was too large to read."
        if self.status is not None:
            if 200 <= self.status < 300:
                return (
                    f"Refused by the provider: its answer (HTTP {self.status}) "
                    "did not report success."
                )
            return f"Refused by the provider: HTTP {self.status}. {self.explanation}".rstrip()
        return CAUSE_IN_WORDS.get(self.cause, "Not sent: the provider could not be used.")


CAUSE_IN_WORDS = {
    Cause.TIMEOUT: "Could not reach the provider: it did not answer in time.",
    Cause.UNREACHABLE: "Could not reach the provider.",
    Cause.BLOCKED: (
        "Not sent: the provider's address is not allowed. An admin must check the provider's setup."
    ),
    Cause.NOT_RENDERED: (
        "Not sent: the message could not be built for this provider "
        "(a value it needs is missing or cannot be sent)."
    ),
    Cause.UNENCODABLE: (
        "Not sent: the request to the provider could not be encoded "
        "(a value holds characters it cannot carry)."
    ),
}


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
    timeout = isinstance(exc, requests.Timeout)
    kind = "timed out" if timeout else "could not connect"
    return SendResult(
        ok=False,
        error=f"Request {kind}: {exc}"[:ERROR_KEPT],
        retryable=True,
        request=request,
        cause=Cause.TIMEOUT if timeout else Cause.UNREACHABLE,
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
    None when no usable answer came (blocked address, network error, timeout, an answer
    larger than HTTP_MAX_ANSWER_BYTES)."""
    from smshub import http

    try:
        response = http.request(method, url, key=key, headers=headers, data=body, auth=auth)
    except http.OutboundBlocked as exc:
        return None, SendResult(ok=False, error=str(exc), request=shown, cause=Cause.BLOCKED)
    except http.AnswerTooLarge as exc:
        return None, SendResult(
            ok=False, status=exc.status, error=str(exc), outcome_unknown=True, request=shown
        )
    except requests.RequestException as exc:
        return None, network_failure(exc, shown)
    except UnicodeError as exc:
        # e.g. a header value Latin-1 cannot carry that no form check caught: this request
        # fails, its worker goes on (SPEC §8, hostile input).
        error = f"The request could not be encoded: {exc}"[:ERROR_KEPT]
        return None, SendResult(ok=False, error=error, request=shown, cause=Cause.UNENCODABLE)
    return response, classify(response, shown)


def not_rendered(exc: Exception) -> SendResult:
    """No request could be built for a message (a missing replacement, an unsafe header)."""
    error = f"The message could not be rendered: {exc}"[:ERROR_KEPT]
    return SendResult(ok=False, error=error, cause=Cause.NOT_RENDERED)


def auth_failure(exc: Exception, shown: ShownRequest | None) -> SendResult:
    """The provider's credentials could not be used (its OAuth token endpoint failed)."""
    return SendResult(
        ok=False,
        error=f"Authentication failing: {exc}",
        retryable=True,
        auth_failed=True,
        request=shown,
    )
