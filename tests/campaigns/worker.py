"""A real Celery worker process for the tests that need one (PostgreSQL + Redis pass)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from smshub.celery import app

ROOT = Path(__file__).resolve().parents[2]

needs_services = pytest.mark.skipif(
    not (
        settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
        and settings.CELERY_BROKER_URL.startswith("redis")
    ),
    reason="a worker process needs a shared database and broker (the PostgreSQL + Redis pass)",
)


class Worker:
    """`celery worker` on its own queue and against the test database, in its own process
    group so that one SIGKILL takes the main process and its children at once."""

    def __init__(self, concurrency: int = 2, **env: str):
        self.queue = f"test-{uuid.uuid4().hex[:12]}"
        self.concurrency = concurrency
        self.env = env
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        database = settings.DATABASES["default"]
        url = (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{connection.settings_dict['NAME']}"
        )
        return {
            **os.environ,
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_QUEUE": self.queue,
            "SECRET_KEY": settings.SECRET_KEY,
            "ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
            "BLOCK_PRIVATE_ADDRESSES": "false",
            "LOG_LEVEL": "WARNING",
            **self.env,
        }

    def start(self) -> Worker:
        command = [
            sys.executable, "-m", "celery", "-A", "smshub", "worker",
            "-Q", self.queue, "--concurrency", str(self.concurrency), "--pool", "prefork",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.environment(), start_new_session=True
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker: no warm shutdown, no acknowledgement, no cleanup."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def route_here(self, monkeypatch) -> None:
        """Send the tasks this test process enqueues to the worker's queue."""
        from campaigns.tasks import prepare, send_range

        for task in (prepare, send_range):
            monkeypatch.setattr(task, "delay", self._router(task))

    def _router(self, task):
        def delay(*args):
            return task.apply_async(args, queue=self.queue)

        return delay

    def purge(self) -> None:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(self.queue)


def wait_until(condition, timeout: float, interval: float = 0.1, on_wait=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if on_wait:
            on_wait()
        time.sleep(interval)
    return condition()
