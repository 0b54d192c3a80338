"""The contract a provider kind's callback receiver implements (SPEC §6), and the one place a
request's outcome becomes the endpoint's answer (SPEC §6.3).

A receiver lives with its kind (providers/kinds/<kind>/receiver.py). This module is what it
builds on, so it imports nothing above the providers layer: no callbacks models or services.
The stored request a receiver reads is a `callbacks.models.CallbackRequest`; it uses only
the fields `body`, `content_type`, `query`, `url`, `signature` and `received_at`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpResponse

from .. import responses
from ..events import NormalizedEvent
from ..responses import Counts

REPLY_KEPT = 512  # characters of a reply's text that are kept


@dataclass(frozen=True)
class Parsed:
    """What a request reported: on messages we sent (`events`, matched by their `meta`), and
    messages people sent us (`inbound`: replies matched by the sender's number, SPEC §6.6)."""

    events: list[NormalizedEvent] = field(default_factory=list)
    inbound: list[NormalizedEvent] = field(default_factory=list)
    # The provider reads only the status code: answer 200 with an empty body (SPEC §5.3).
    empty_answer: bool = False

    @property
    def everything(self) -> list[NormalizedEvent]:
        return [*self.events, *self.inbound]


class Rejected(Exception):
    """The request is refused whole and changes nothing: 400 for bad input (naming every
    missing field), 403 for a forged request, 413 for too many records."""

    def __init__(self, status: int, message: str, missing_fields: list[str] | tuple = ()):
        super().__init__(message)
        self.status = status
        self.message = message
        self.missing_fields = tuple(missing_fields)


class Receiver:
    """Reads one kind's callback requests into events."""

    # A request header the endpoint keeps (as the stored request's `signature`) for `parse`
    # to authenticate the request with.
    signature_header = ""

    def accepts_get(self, provider) -> bool:
        """Whether the provider may send its reports as GET requests (their fields in the
        query string); other requests than POST are refused otherwise."""
        return False

    def parse(self, request, provider) -> Parsed:
        """The request's events, or Rejected. Pure but for reading the provider (its
        configuration and secrets); runs again, unchanged, when a request is reprocessed."""
        raise NotImplementedError

    def success(self, parsed: Parsed) -> HttpResponse | None:
        """The kind's own answer to an accepted request; None answers SPEC §6.3's JSON."""
        return HttpResponse(status=200) if parsed.empty_answer else None


@dataclass(frozen=True)
class Outcome:
    """What to answer: a status code, with the counts and what was read (2xx), or why the
    request was refused."""

    status: int
    counts: Counts | None = None
    parsed: Parsed | None = None
    message: str = ""
    missing_fields: tuple[str, ...] = ()

    @classmethod
    def refused(cls, rejected: Rejected) -> Outcome:
        return cls(
            rejected.status, message=rejected.message, missing_fields=rejected.missing_fields
        )


def answer(receiver: Receiver, outcome: Outcome) -> HttpResponse:
    """The endpoint's answer to a processed request (SPEC §6.3)."""
    if outcome.status == 400:
        return responses.bad_request(outcome.message, list(outcome.missing_fields))
    if outcome.status >= 300:
        return responses.error(outcome.status, outcome.message)
    return receiver.success(outcome.parsed) or responses.success(outcome.counts)
