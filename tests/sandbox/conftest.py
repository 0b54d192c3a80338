"""No sandbox test publishes to a broker: the callback task is recorded instead."""

from __future__ import annotations

import pytest

from sandbox import tasks


@pytest.fixture(autouse=True)
def scheduled(monkeypatch) -> list[tuple]:
    """The (args, options) of every post_callbacks task the sandbox endpoint enqueued."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        tasks.post_callbacks, "apply_async", lambda args, **options: calls.append((args, options))
    )
    monkeypatch.setattr(tasks.post_callbacks, "delay", lambda *args: calls.append((args, {})))
    return calls
