"""No audience test publishes to a broker: run_import.delay is recorded instead."""

from __future__ import annotations

import pytest

from audiences import tasks


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> list[tuple]:
    """The import ids handed to Celery, recorded instead of published."""
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda *args: calls.append(args))
    return calls


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to a scratch folder, not var/media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEFAULT_COUNTRY = "US"
    return settings.MEDIA_ROOT
