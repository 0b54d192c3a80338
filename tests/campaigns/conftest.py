"""No test here talks to a broker unless it starts a worker (tests/campaigns/worker.py)."""

from __future__ import annotations

import pytest

from campaigns import tasks


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> list[tuple]:
    """The id ranges handed to Celery, recorded instead of published; preparing a campaign
    runs at once, in the test (it only creates rows and hands out ranges)."""
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.send_range, "delay", lambda *args: calls.append(args))
    monkeypatch.setattr(tasks.prepare, "delay", tasks.prepare)
    return calls
