"""What every benchmark needs: Django on the benchmark database, providers saved through
their forms, fresh planner statistics, and a real Celery worker on Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/15")


def configure(media_root: Path | None = None) -> None:
    """Django against BENCH_DATABASE_URL (a scratch SQLite file without it), migrated."""
    url = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{tempfile.mkdtemp(prefix='smshub-bench-')}/bench.sqlite3"
    )
    os.environ["DATABASE_URL"] = url
    if media_root is not None:
        os.environ["MEDIA_ROOT"] = str(media_root)
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 30)
    os.environ.setdefault("ENCRYPTION_KEYS", "n3DgMVo7iPmWd9bTBXcDv9cQjQv2yX0pY5gF3kqgJ8c=")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smshub.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The stub providers are local: this process and the workers it starts turn the guard off.
    os.environ.setdefault("BLOCK_PRIVATE_ADDRESSES", "false")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def provider_for(stub_url: str, batched: bool, **extra: str):
    """A Generic JSON provider at `stub_url` (batched 1000 per request, or one message per
    request), saved through its setup form as an admin would; `extra` adds form fields."""
    from django.http import QueryDict

    from providers import services
    from providers.kinds.generic.form import GenericProviderForm

    data = QueryDict(mutable=True)
    data.update(
        {
            "nickname": f"Bench {'batched' if batched else 'unbatched'} {time.time_ns()}",
            "request_type": "POST",
            "endpoint": stub_url,
            "auth_type": "none",
            "body_format": "json",
            "number_format": "e164",
            **extra,
        }
    )
    if batched:
        data["json_body"] = (
            '{"from": "HUB", "messages": [{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}]}'
        )
        data.update({"batching": "on", "batch_key": "messages", "records_per_batch": "1000"})
    else:
        data["json_body"] = '{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}'
    form = GenericProviderForm(data)
    assert form.is_valid(), form.errors
    return services.save_from_form(form, None)


def analyze() -> None:
    """What autovacuum does on a live system: fresh planner statistics after a bulk load."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


# --- a real worker -------------------------------------------------------------------------------
def start_worker(queue: str, processes: int) -> subprocess.Popen:
    """`celery worker --concurrency <processes>` on its own queue (set CELERY_QUEUE and
    CELERY_BROKER_URL=BROKER in os.environ before `configure` so that this process enqueues
    there too), in its own process group."""
    command = [
        sys.executable, "-m", "celery", "-A", "smshub", "worker", "-Q", queue,
        "--concurrency", str(processes), "--pool", "prefork", "--without-gossip",
        "--without-mingle", "--without-heartbeat", "-l", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "BLOCK_PRIVATE_ADDRESSES": "false"}
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop_worker(worker: subprocess.Popen, queue: str) -> None:
    """SIGTERM the main process (a warm shutdown: its children finish the group they hold),
    then the process group for anything left; then empty the queue."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            print("worker: no warm shutdown within 30 s")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(worker.pid, sig)
        except ProcessLookupError:
            break  # the whole group is gone
        time.sleep(1)
    worker.wait(10)
    from smshub.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
