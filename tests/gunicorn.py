"""The hub served by a real gunicorn, with the project's config, for tests that need what
production runs (log handlers, several processes, a database restarted under it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.campaigns.worker import wait_until

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict, port: int, *options: str, stderr=None) -> Iterator[str]:
    """Serve on 127.0.0.1:`port` with `env`, until the block ends; yields the base URL once
    /healthz answers 200."""
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "smshub.wsgi",
        "--config", "python:smshub.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}",
        "--no-control-socket",  # gunicorns of parallel runs would share its one path
        *options,
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        assert wait_until(up, timeout=30, interval=0.2), "gunicorn did not start"
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
