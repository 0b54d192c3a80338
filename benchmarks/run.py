"""`make bench`: every benchmark of issue 7 (B1 to B8) on this machine's PostgreSQL and Redis,
each in its own process, then one table of our figure, the baseline's and their ratio.

    .venv/bin/python -m benchmarks.run [--quick] [B1 B5 …]

BENCH_DATABASE_URL (default: the local PostgreSQL's smshub_bench, created if missing) and
BENCH_BROKER_URL (default: the local Redis, db 15) are emptied as the benchmarks go: never
point them at real data. --quick runs smaller sizes (a smoke test of the scripts, not the
figures of record). The table is also written to var/benchmarks/latest.md.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

from benchmarks.report import Row, parse

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/smshub_bench"
# Module → the rows it prints, in the order once gathered.
MODULES = {
    "dispatch_throughput": ("B1", "B2"),
    "callback_ingest": ("B3",),
    "native_ingest": ("B3n",),
    "twilio_callbacks": ("B4",),
    "stats_pages": ("B5",),
    "create_messages": ("B6",),
    "rate_limit": ("B7",),
    "import_csv": ("B8",),
}


def ensure_database(url: str) -> None:
    """Create the benchmark database on its server when it is not there yet."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def run_module(module: str, quick: bool) -> tuple[list[Row], float]:
    """Run one benchmark module, echoing what it prints; its rows and its duration."""
    command = [sys.executable, "-m", f"benchmarks.{module}", *(["--quick"] if quick else [])]
    print(f"\n=== {module} ===", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    rows = []
    for line in process.stdout:
        row = parse(line)
        if row is None:
            print(line, end="", flush=True)
        else:
            rows.append(row)
    if process.wait():
        print(f"!!! {module} exited with status {process.returncode}", flush=True)
    return rows, time.perf_counter() - started


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    url = os.environ["BENCH_DATABASE_URL"]
    with psycopg.connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({cpu}), PostgreSQL {server}, Python {python}"


def table(rows: list[Row]) -> str:
    lines = [
        "| # | scenario | ours | baseline | ours ÷ baseline | target | met | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row.id} | {row.scenario} | {row.ours:,.1f} {row.unit} | "
            f"{row.baseline:,.1f} {row.unit} | {row.ratio:.2f} | {row.target} | "
            f"{'yes' if row.met else '**no**'} | {row.notes} |"
        )
    return "\n".join(lines)


def main() -> int:
    quick = "--quick" in sys.argv
    wanted = {arg.upper() for arg in sys.argv[1:] if not arg.startswith("--")}
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    ensure_database(os.environ["BENCH_DATABASE_URL"])
    rows: list[Row] = []
    durations = {}
    failed = []
    for module, ids in MODULES.items():
        if wanted and not wanted & {row_id.upper() for row_id in ids}:
            continue
        found, durations[module] = run_module(module, quick)
        rows += found
        missing = set(ids) - {row.id for row in found}
        if missing:
            failed.append(module)
            print(f"!!! {module} printed no row for {', '.join(sorted(missing))}", flush=True)
    rows.sort(key=lambda row: row.id)
    heading = (
        f"Benchmarks of {date.today().isoformat()}{' (--quick)' if quick else ''} on "
        f"{machine()}; total {sum(durations.values()) / 60:.1f} min"
    )
    report = f"{heading}\n\n{table(rows)}\n"
    print("\n" + report)
    latest = ROOT / "var" / "benchmarks" / "latest.md"
    latest.parent.mkdir(parents=True, exist_ok=True)
    latest.write_text(report)
    return 1 if failed else 0  # a missed target is reported, not an error


if __name__ == "__main__":
    sys.exit(main())
