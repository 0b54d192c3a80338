"""No test here talks to a broker unless it starts a worker (tests/campaigns/worker.py)."""

from __future__ import annotations

import pytest

from campaigns import tasks


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> list[tuple]:
    """The id ranges handed to Celery, recorded instead of published."""
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.send_range, "delay", lambda *args: calls.append(args))
    return calls
