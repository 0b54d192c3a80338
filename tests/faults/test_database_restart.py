"""PostgreSQL restarted (`pg_ctlcluster … restart`, fast mode: every session is cut) while a
worker sends and while providers post callbacks to a running web server (SPEC §6.5, §9).

- During a send: the worker's group in flight can no longer be recorded; its messages end
  Dispatch Error (outcome unknown) through the sweeper, never sent twice, and the same
  worker process reconnects and sends the rest of the campaign.
- During callback ingest (gunicorn, clients that retry on any non-2xx answer or
  connection error): no 2xx answer is ever given for a request that was not committed, and
  once every request got its 2xx the counts are exact.

The restart cuts this process's connections too: they are closed, and the test waits until
PostgreSQL accepts connections again, so the tests after these ones are not affected. Runs
only against a local cluster that this process (root) may restart.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from contextlib import contextmanager, suppress

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import OperationalError, connection, connections

from callbacks.models import CallbackRequest, Event, RequestStatus
from campaigns import services
from campaigns.models import DispatchReason, Message, MessageState
from providers import message_ids
from tests.campaigns.worker import Worker, needs_services, wait_until
from tests.gunicorn import free_port, gunicorn

from .checks import assert_books_balance, finish, ids_in, states
from .conftest import FAST, campaign_for
from .stub import Stub
from .test_worker_kills import Holds, held

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

GROUP = int(FAST["DISPATCH_GROUP_SIZE"])
READY_TIMEOUT = 30.0


def local_cluster() -> tuple[str, str] | None:
    """(version, name) of the local cluster that serves the test database's port."""
    port = str(settings.DATABASES["default"]["PORT"] or 5432)
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=10
    )
    for line in listing.stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    return None


def why_postgres_cannot_be_restarted() -> str | None:
    host = settings.DATABASES["default"]["HOST"]
    if host not in ("127.0.0.1", "localhost"):
        return f"PostgreSQL at {host!r} is not this machine's: a test never restarts it"
    if not (shutil.which("pg_ctlcluster") and shutil.which("pg_lsclusters")):
        return "pg_ctlcluster (postgresql-common) is not installed"
    if os.geteuid() != 0:
        return "pg_ctlcluster may restart the cluster only as root"
    if local_cluster() is None:
        return "pg_lsclusters lists no local cluster on the database's port"
    return None


def wait_for_postgres(timeout: float = READY_TIMEOUT) -> None:
    """Drop this thread's (broken) connections and wait until a new one works."""
    deadline = time.monotonic() + timeout
    while True:
        connections.close_all()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def restart_postgres(transactional_db):
    """`restart()` restarts the test database's cluster and returns once this process can
    use it again; teardown makes sure of that even when the test failed half-way (the
    database flush after the test, and the next tests, need it)."""
    reason = why_postgres_cannot_be_restarted()
    if reason:
        pytest.skip(reason)
    version, name = local_cluster()

    def restart() -> None:
        connections.close_all()
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        wait_for_postgres()

    yield restart
    wait_for_postgres()


def test_a_database_restart_mid_send_loses_nothing_and_the_worker_reconnects(
    server, worker_factory, restart_postgres
):
    """Restarted while a group's request is held at the stub: at most that group ends
    outcome unknown, nothing is sent twice, and the same worker sends the other messages."""
    holds = Holds()
    stub = Stub(holds)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), 300)
    holds.hold(at=110)  # a request in the middle of the campaign
    worker = worker_factory(concurrency=1)

    services.launch(campaign)
    assert holds.arrived.wait(60), stub.requests
    in_flight = ids_in(campaign, MessageState.SENDING)
    assert 0 < len(in_flight) <= GROUP
    with stub.lock:
        held_id = held(stub, holds.release)
        requests_before = stub.requests

    restart_postgres()
    holds.release.set()
    finish(campaign, timeout=60)

    assert worker.process.poll() is None  # the same worker went on after the restart
    assert stub.requests - requests_before >= 300 - 110 - GROUP
    counts = states(campaign)
    unknown = ids_in(campaign, MessageState.DISPATCH_ERROR)
    assert unknown <= in_flight, "only the group in flight may end without an outcome"
    reasons = set(Message.objects.filter(id__in=unknown).values_list("reason", flat=True))
    assert reasons <= {DispatchReason.OUTCOME_UNKNOWN}
    assert held_id in stub.accepted
    assert counts[MessageState.SENT] == 300 - len(unknown)
    assert set(stub.received().values()) == {1}, "a message was sent twice"
    assert_books_balance(campaign, stub, unknown)


# --- callbacks -------------------------------------------------------------------------------
EVENTS_PER_REQUEST = 4
CLIENTS = 3
PACE = 0.1  # seconds a client waits between two requests (and before a retry)
CLIENT_DEADLINE = 40.0


@pytest.fixture
def hub(transactional_db):
    """The hub served by gunicorn against the test database (2 processes x 2 threads,
    persistent connections), as in production; yields its base URL."""
    port = free_port()
    env = {
        **Worker().environment(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
    }
    with gunicorn(env, port, "--workers", "2", "--threads", "2", "--log-level", "warning") as base:
        yield base


def callback_bodies(message_ids_: list[int], ts: int) -> list[bytes]:
    """A delivered event for every message and a click for every third, a few per request."""
    records = [("delivered", {"ts": ts, "meta": message_ids.sign(i), "description": "ok"})
               for i in message_ids_]  # fmt: skip
    records += [
        ("clicked", {"ts": ts + 5, "meta": message_ids.sign(i), "url": "https://shop.example"})
        for i in message_ids_[::3]
    ]
    bodies = []
    for start in range(0, len(records), EVENTS_PER_REQUEST):
        chunk = records[start : start + EVENTS_PER_REQUEST]
        events = [{"event": event, "data": [record]} for event, record in chunk]
        bodies.append(json.dumps(events).encode())
    return bodies


@contextmanager
def messages_locked(campaign):
    """Hold a lock on the campaign's messages from another session: a callback request
    that records an outcome waits for it, inside its transaction."""
    database = settings.DATABASES["default"]
    session = psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        user=database["USER"],
        password=database["PASSWORD"] or None,
        host=database["HOST"],
        port=database["PORT"] or 5432,
    )
    table = Message._meta.db_table
    try:
        session.execute(f"SELECT id FROM {table} WHERE campaign_id = %s FOR UPDATE", [campaign.pk])
        yield
    finally:
        with suppress(psycopg.Error):
            session.close()


def waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


class Clients:
    """Providers posting callbacks: each body is posted until it gets a 2xx; every answer
    (status, or None for a connection error) is logged with its body."""

    def __init__(self, url: str, bodies: list[bytes]):
        self.url = url
        self.todo = list(reversed(bodies))
        self.lock = threading.Lock()
        self.log: list[tuple[bytes, int | None, dict | None]] = []
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self.work) for _ in range(CLIENTS)]
        self.deadline = time.monotonic() + CLIENT_DEADLINE

    def start(self) -> Clients:
        for thread in self.threads:
            thread.start()
        return self

    def join(self) -> None:
        for thread in self.threads:
            thread.join(CLIENT_DEADLINE + 10)

    def accepted(self) -> list[bytes]:
        with self.lock:
            return [body for body, status, _ in self.log if status and 200 <= status < 300]

    def work(self) -> None:
        session = requests.Session()
        try:
            while True:
                with self.lock:
                    if not self.todo:
                        return
                    body = self.todo.pop()
                while not self.post(session, body):
                    assert time.monotonic() < self.deadline, "a callback was never accepted"
                    time.sleep(PACE)
                time.sleep(PACE)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def post(self, session: requests.Session, body: bytes) -> bool:
        try:
            response = session.post(
                self.url, data=body, headers={"Content-Type": "application/json"}, timeout=10
            )
        except requests.RequestException:
            with self.lock:
                self.log.append((body, None, None))
            return False
        ok = 200 <= response.status_code < 300
        with self.lock:
            self.log.append((body, response.status_code, response.json() if ok else None))
        return ok


def test_a_database_restart_during_callback_ingest_never_answers_2xx_without_a_commit(
    server, worker_factory, restart_postgres, hub
):
    """Restarted while every client's request waits inside its transaction: those get a
    5xx, every 2xx has its committed request, and the retried callbacks count exactly once."""
    stub = Stub()
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), 150)
    worker_factory(concurrency=2)
    services.launch(campaign)
    finish(campaign)
    sent = sorted(ids_in(campaign, MessageState.SENT))
    assert len(sent) == 150
    bodies = callback_bodies(sent, int(time.time()))
    url = f"{hub}/callbacks/sms/{campaign.provider.callback_token}/"

    clients = Clients(url, bodies).start()
    assert wait_until(lambda: len(clients.accepted()) >= len(bodies) // 4, timeout=30)
    with messages_locked(campaign):
        # Every client's request now waits inside its transaction when PostgreSQL goes.
        assert wait_until(lambda: waiting_for_a_lock() >= CLIENTS, timeout=10)
        restart_postgres()
    clients.join()

    assert not clients.errors, clients.errors
    accepted = Counter(clients.accepted())
    assert set(accepted) == set(bodies)
    refused = Counter(status for _, status, _ in clients.log if not status or status >= 300)
    assert refused[503] >= CLIENTS, refused  # cut mid-transaction: "Service Unavailable"
    assert set(refused) <= {None, 500, 503}, refused
    # Never a 2xx answer without a commit: each one has its stored, processed request.
    stored = CallbackRequest.objects.filter(status=RequestStatus.PROCESSED)
    committed = Counter(bytes(body) for body in stored.values_list("body", flat=True))
    assert not accepted - committed, "a 2xx was answered for a request that was not stored"
    # Exact counts: every event once, whatever was posted twice.
    clicks = len(sent[::3])
    assert Event.objects.filter(type="delivered").count() == 150
    assert Event.objects.filter(type="clicked").count() == clicks
    assert Message.objects.filter(campaign=campaign, outcome="delivered").count() == 150
    assert Message.objects.filter(campaign=campaign, first_clicked_at__isnull=False).count() == (
        clicks
    )
    new = sum(r.processed_events - r.duplicate_events - r.unmatched_events for r in stored)
    assert new == Event.objects.count() == 150 + clicks
    assert_books_balance(campaign, stub)
