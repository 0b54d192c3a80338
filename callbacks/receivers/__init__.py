"""Provider-specific callback formats: each kind reads its requests into NormalizedEvents
and shapes its own 2xx answer."""

from __future__ import annotations

from django.http import HttpResponse

from providers.models import ProviderKind

from .. import responses


def answer_for(provider, row, outcome) -> HttpResponse:
    if provider.kind == ProviderKind.TWILIO:
        from . import twilio

        return twilio.answer(row, outcome)
    return responses.success(outcome.counts)
