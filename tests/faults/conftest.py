"""Fixtures of the fault suite: a threaded stub server, real worker processes with small
dispatch settings, and campaigns of plain or batched messages."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import cache
from pytest_httpserver import HTTPServer

from campaigns import services
from campaigns.models import Campaign
from tests.campaigns.helpers import numbers
from tests.campaigns.worker import Worker
from tests.providers.helpers import create_generic

from .stub import BATCH_JSON, BATCH_KEY

# Small timings, shared by the worker processes (env) and this process (the sweeper).
FAST = {
    "DISPATCH_MAX_ATTEMPTS": "5",
    "DISPATCH_BACKOFF_BASE": "0.05",
    "DISPATCH_BACKOFF_MAX": "1",
    "DISPATCH_SENDING_TIMEOUT": "2",
    "DISPATCH_STALL_AFTER": "1",
    "DISPATCH_GROUP_SIZE": "20",
    "DISPATCH_RANGE_SIZE": "100",
    "HTTP_READ_TIMEOUT": "5",
    # Failure rates here are high on purpose: the auto-pause rule is not under test.
    "AUTO_PAUSE_ERROR_RATE": "1",
}


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


@pytest.fixture
def server():
    """The stub provider's server; threaded, so that a slow answer delays no other."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def worker_factory(monkeypatch, settings):
    """`start(concurrency=…, **overrides)` runs a worker with FAST settings (+ overrides),
    which this process's sweeper and enqueue use too."""
    workers: list[Worker] = []

    def start(concurrency: int = 2, **overrides: str) -> Worker:
        env = {**FAST, **overrides}
        for name, value in env.items():
            current = getattr(settings, name)
            setattr(settings, name, type(current)(float(value)) if current is not None else value)
        worker = Worker(concurrency=concurrency, **env).start()
        worker.route_here(monkeypatch)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
        worker.purge()


def campaign_for(endpoint: str, count: int, *, batch: int | None = None) -> Campaign:
    """A draft campaign of `count` queued messages to a Generic provider at `endpoint`,
    one request per message, or `batch` messages per request."""
    fields = {}
    if batch:
        fields = dict(
            json_body=BATCH_JSON, batching=True, batch_key=BATCH_KEY, records_per_batch=batch
        )
    provider = create_generic(None, endpoint=endpoint, **fields)
    campaign = Campaign.objects.create(name="Faults", provider=provider, body="Hello")
    services.queue_messages(campaign, [(to, None) for to in numbers(count)])
    return campaign


def closed_port() -> int:
    """A local port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
