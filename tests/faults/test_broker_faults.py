"""The broker loses its tasks mid-campaign (SPEC §3.4, §9; README "Delivery guarantee"): the
Redis database of the broker is flushed (FLUSHDB), or Redis is restarted (it keeps nothing
on disk). Tasks carry only id ranges, the messages' state is in PostgreSQL, and the sweeper
(Celery beat's task, run here by `finish`) enqueues a campaign again once it has made no
progress for DISPATCH_STALL_AFTER: the lost ranges are sent, every message once.

Each test holds one request open at the stub, so the fault lands while a worker is sending
and while ranges still wait in the broker's queue (asserted), then ends with the books
balanced: rollups == recompute, the ids the stub accepted == the messages marked Sent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings

from campaigns import services, sweeper
from campaigns.models import Message, MessageState
from tests.campaigns.worker import needs_services, wait_until

from .checks import assert_books_balance, finish, ids_in, states
from .conftest import campaign_for
from .stub import Stub
from .test_worker_kills import Holds

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

COUNT = 600  # six ranges of DISPATCH_RANGE_SIZE (100): one sending, the others queued
REDIS_PORT = 6379
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
    "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no",
    "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def broker() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5)


def alive(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def why_redis_cannot_be_restarted() -> str | None:
    """Restart only a local, memory-only Redis on 6379, as root, in the shape REDIS_START
    brings back; anything else is someone's data, or a server we could not restore."""
    url = urlsplit(settings.CELERY_BROKER_URL)
    if url.hostname not in ("127.0.0.1", "localhost") or (url.port or 6379) != REDIS_PORT:
        return f"the broker is not a local Redis on port {REDIS_PORT}: it is never restarted"
    if not (shutil.which("redis-server") and shutil.which("redis-cli")):
        return "redis-server and redis-cli are not installed"
    if os.geteuid() != 0:
        return "restarting Redis (its /var/lib/redis and log) needs root"
    if not (os.path.isdir("/var/lib/redis") and os.path.isdir("/var/log/redis")):
        return "/var/lib/redis or /var/log/redis is missing"
    config = broker().config_get("save") | broker().config_get("appendonly")
    if config.get("save") or config.get("appendonly") != "no":
        return f"this Redis persists data ({config}): a restart would not be a clean loss"
    return None


@pytest.fixture
def redis_restart(worker_factory):
    """`restart()` shuts Redis down without saving and starts it again; whatever happens,
    Redis is up again before the workers are stopped and their queues purged."""
    reason = why_redis_cannot_be_restarted()
    if reason:
        pytest.skip(reason)
    client = broker()

    def start() -> None:
        subprocess.run(REDIS_START, check=True, timeout=30, capture_output=True)
        assert wait_until(lambda: alive(client), timeout=15), "Redis did not come back"

    def restart() -> None:
        subprocess.run(
            ["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"],
            timeout=30,
            capture_output=True,
        )
        assert wait_until(lambda: not alive(client), timeout=15), "Redis did not stop"
        start()

    yield restart
    if not alive(client):
        start()


def queue_length(worker) -> int:
    return broker().llen(worker.queue)


def send_and_lose_the_queue(server, worker_factory, lose) -> None:
    """Launch a campaign, and call `lose()` while a request is held open at the stub and
    ranges wait in the queue; then the sweeper must revive it and it must end Sent."""
    holds = Holds()
    stub = Stub(holds)
    server.expect_request("/sms").respond_with_handler(stub)
    campaign = campaign_for(server.url_for("/sms"), COUNT)
    holds.hold(at=150)
    worker = worker_factory(concurrency=1, DISPATCH_RANGE_SIZE="100")

    services.launch(campaign)
    assert holds.arrived.wait(60), stub.requests
    assert queue_length(worker) > 0, "no range was waiting in the broker"

    lose()
    assert queue_length(worker) == 0
    holds.release.set()

    # Without the lost ranges the worker runs dry; beat's sweeper notices the stall.
    assert wait_until(lambda: sweeper.sweep().revived > 0, timeout=30, interval=0.25)
    finish(campaign, timeout=60)

    assert worker.process.poll() is None  # the same worker carried on
    assert states(campaign) == {MessageState.SENT: COUNT}, states(campaign)
    assert set(stub.received().values()) == {1}, "a message was sent twice"
    assert set(stub.received()) == set(Message.objects.values_list("id", flat=True))
    assert ids_in(campaign, MessageState.SENT) == set(stub.accepted)
    assert_books_balance(campaign, stub)


def test_a_flushed_broker_database_loses_queued_ranges_and_the_sweeper_sends_them(
    server, worker_factory
):
    """FLUSHDB of the broker's database only (queues, unacked tasks, bindings)."""
    send_and_lose_the_queue(server, worker_factory, lambda: broker().flushdb())


def test_a_redis_restart_loses_queued_ranges_and_the_sweeper_sends_them(
    server, worker_factory, redis_restart
):
    """Redis shut down without saving and started again: every connection drops too, and
    the worker and this process reconnect by themselves."""
    send_and_lose_the_queue(server, worker_factory, redis_restart)
    # The test's own connections to the broker came back as well.
    assert alive(broker())
