"""Serving a WSGI app with gunicorn as in production and posting to it from concurrent
keep-alive clients: the harness of the callback benchmarks (B3, B4) and their baselines."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 8


@dataclass
class Post:
    path: str  # path and query
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Run:
    wall: float
    latencies: list[float]
    failures: list[tuple[int, str]]

    @property
    def rate(self) -> float:
        """Requests per second."""
        return len(self.latencies) / self.wall

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(int(len(ordered) * share) - 1, 0)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(port: int, app: str) -> subprocess.Popen:
    """gunicorn serving `app` like production: 2 workers x 4 threads (BENCH_WORKERS and
    BENCH_THREADS change that)."""
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    command = [
        str(ROOT / ".venv/bin/gunicorn"), app, "--config", "python:smshub.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}",
        "--workers", os.environ.get("BENCH_WORKERS", "2"),
        "--threads", os.environ.get("BENCH_THREADS", "4"), "--log-level", "warning",
        "--no-control-socket",  # gunicorns running side by side would share its one path
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return server
        except requests.RequestException:
            time.sleep(0.1)
    server.kill()
    server.wait(10)
    sys.exit(f"gunicorn ({app}) did not start")


def post_all(base: str, posts: list[Post], path_of=lambda path: path) -> Run:
    """Post everything from CLIENTS threads, each with its own keep-alive session; any
    answer but 200 is a failure."""
    latencies: list[float] = []
    failures: list[tuple[int, str]] = []
    queue = list(reversed(posts))
    lock = threading.Lock()

    def client():
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                post = queue.pop()
            started = time.perf_counter()
            response = session.post(base + path_of(post.path), data=post.body, headers=post.headers)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status_code != 200:
                    failures.append((response.status_code, response.text[:200]))

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(time.perf_counter() - started, latencies, failures)


def measure(app: str, port: int, warmup: list[Post], timed: list[Post], path_of) -> Run:
    """Start `app`, post the warm-up (connections, URL resolver, first queries; not timed),
    then time the rest."""
    server = serve(port, app)
    try:
        base = f"http://127.0.0.1:{port}"
        post_all(base, warmup, path_of)
        return post_all(base, timed, path_of)
    finally:
        server.terminate()
        server.wait(10)
