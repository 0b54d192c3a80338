"""CSV import throughput: a generated 1,000,000-row file imported in-process (SPEC §4).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub_bench \\
        .venv/bin/python -m benchmarks.import_csv [--quick] [--reading-only]

The file has a phone column and 3 attribute columns, ~1 % bad numbers and ~1 % duplicates
(written in another format). Prints rows per second, elapsed time and the process's peak RSS,
and a psycopg COPY of the rows the import wrote, into the same contacts table, as the floor
for writing them (B8); with --reading-only, also the import without database writes.
--quick imports 200,000 rows. Never run it against a real database: it deletes
every audience whose name starts with "Bench ".
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from benchmarks.common import configure
from benchmarks.report import Row, emit, peak_rss_mb

ROWS = 200_000 if "--quick" in sys.argv else 1_000_000
PEAK_MB = 300
AREAS = [201, 206, 212, 303, 305, 312, 404, 415, 503, 512, 602, 617, 646, 702, 713, 718, 805]
NAMES = ["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
CITIES = ["Paris", "New York", "São Paulo", "Zürich", "Lagos", "Osaka", "Austin, TX"]
PLANS = ["free", "silver", "gold"]


def generate(path: Path, rows: int) -> None:
    """Unique valid US numbers in three formats, ~1 % bad, ~1 % repeats of earlier rows."""
    rng = random.Random(42)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("phone,first_name,city,plan\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.01:
                phone = rng.choice(["12345", "n/a", "+99 1234", "555-01"])
            else:
                k = rng.randrange(i) if roll < 0.02 and i else i
                area, k = AREAS[k % len(AREAS)], k // len(AREAS)
                exchange, line = 200 + k // 10000, k % 10000
                phone = (
                    f"({area}) {exchange}-{line:04d}",
                    f"+1{area}{exchange}{line:04d}",
                    f"{area}.{exchange}.{line:04d}",
                )[(i + (roll < 0.02)) % 3]
            city = rng.choice(CITIES)
            out.write(f'{phone},{rng.choice(NAMES)},"{city}",{rng.choice(PLANS)}\n')


def start(path: Path):
    from django.core.files import File

    from audiences import services, tasks

    with path.open("rb") as source:
        job = services.start_import(File(source, name=path.name), f"Bench {time.time_ns()}", None)
    with mock.patch.object(tasks.run_import, "delay"):  # run here, not by a worker
        services.choose_columns(job, "phone", "US")
    return job


def run_import(path: Path) -> tuple[object, float]:
    from audiences import services
    from audiences.models import Import, ImportStatus

    job = start(path)
    started = time.perf_counter()
    services.run_import(job.pk)
    elapsed = time.perf_counter() - started
    job = Import.objects.get(pk=job.pk)
    assert job.status == ImportStatus.DONE, job.error
    return job, elapsed


def run_reading_only(path: Path) -> float:
    """The same import with its database writes replaced by nothing: reading and checking."""
    from audiences import imports, services

    job = start(path)
    with (
        mock.patch.object(imports, "upsert_contacts", lambda _id, contacts: len(contacts)),
        mock.patch.object(imports.RejectedRow.objects, "bulk_create"),
    ):
        started = time.perf_counter()
        services.run_import(job.pk)
        return time.perf_counter() - started


def copy_baseline(audience_id: int, scratch: Path) -> tuple[int, float]:
    """COPY the contacts the import wrote into a new audience of the same contacts table (its
    indexes, foreign key and write-ahead log included): the fastest way to write those rows.
    Returns (rows, seconds)."""
    from django.db import connection

    from audiences.models import Audience, Contact

    table = connection.ops.quote_name(Contact._meta.db_table)
    target = Audience.objects.create(name=f"Bench COPY {time.time_ns()}")
    dump = scratch / "contacts.copy"
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:  # psycopg's own cursor
        with (
            dump.open("wb") as out,
            cursor.copy(
                f"COPY (SELECT {int(target.pk)}, phone, attributes, created_at FROM {table} "
                f"WHERE audience_id = {int(audience_id)}) TO STDOUT"
            ) as copy,
        ):
            for block in copy:
                out.write(block)
        started = time.perf_counter()
        with (
            cursor.copy(
                f"COPY {table} (audience_id, phone, attributes, created_at) FROM STDIN"
            ) as copy,
            dump.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        connection.connection.commit()
        elapsed = time.perf_counter() - started
    return Contact.objects.filter(audience=target).count(), elapsed


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="smshub-bench-import-"))
    configure(media_root=scratch / "media")
    from django.db import connection

    from audiences.models import Audience

    Audience.objects.filter(name__startswith="Bench ").delete()
    path = scratch / "contacts.csv"
    started = time.perf_counter()
    generate(path, ROWS)
    size = path.stat().st_size
    print(
        f"database: {connection.vendor}; {ROWS:,} rows, {size / 1e6:.1f} MB "
        f"(generated in {time.perf_counter() - started:.1f} s); one process"
    )

    before = peak_rss_mb()
    job, elapsed = run_import(path)
    after = peak_rss_mb()
    print(
        f"import             {elapsed:8.1f} s  {job.rows_read / elapsed:>9,.0f} rows/s  "
        f"added {job.added:,}, merged {job.merged:,}, rejected {job.rejected:,}"
    )
    helper = peak_rss_mb(resource.RUSAGE_CHILDREN)  # the phone number checker
    print(
        f"peak RSS           {after:8.0f} MB  (before the import: {before:.0f} MB; "
        f"number checker process: {helper:.0f} MB)"
    )

    if "--reading-only" in sys.argv:
        reading = run_reading_only(path)
        print(
            f"reading only       {reading:8.1f} s  {ROWS / reading:>9,.0f} rows/s  "
            "(parse, check, normalise; no database writes)"
        )
    if connection.vendor != "postgresql":
        sys.exit("B8's baseline is a PostgreSQL COPY: set BENCH_DATABASE_URL")
    rows, copy = copy_baseline(job.audience_id, scratch)
    print(
        f"COPY baseline      {copy:8.1f} s  {rows / copy:>9,.0f} rows/s  "
        f"({rows:,} parsed rows into the contacts table)"
    )
    ours, baseline = job.rows_read / elapsed, rows / copy
    emit(
        [
            Row(
                "B8",
                f"CSV import of {ROWS:,} contacts",
                ours,
                baseline,
                "rows/s",
                f"≥ 0.3x COPY; peak memory < {PEAK_MB} MB",
                ours / baseline >= 0.3 and after + helper < PEAK_MB,
                f"{elapsed:.1f} s vs {copy:.1f} s; peak memory {after:.0f} MB "
                f"+ {helper:.0f} MB (number checker)",
            )
        ]
    )
    Audience.objects.filter(name__startswith="Bench ").delete()


if __name__ == "__main__":
    sys.exit(main())
