"""One benchmark row: our figure, the baseline's measured in the same run, and the target.

Each benchmark module ends its run with `emit(rows)`, which prints the rows for a person and
one `RESULT {json}` line per row for `benchmarks.run` to collect.
"""

from __future__ import annotations

import json
import resource
from dataclasses import asdict, dataclass

PREFIX = "RESULT "


@dataclass
class Row:
    id: str  # B1…B8
    scenario: str
    ours: float
    baseline: float
    unit: str  # of ours and baseline, e.g. "msg/s"
    target: str  # as the issue states it
    met: bool
    notes: str = ""  # the figures a target names besides the ratio (peak memory, p99…)

    @property
    def ratio(self) -> float:
        """Ours ÷ baseline, as the targets state them (for times, lower is better)."""
        return self.ours / self.baseline if self.baseline else 0.0


def emit(rows: list[Row]) -> None:
    for row in rows:
        verdict = "met" if row.met else "MISSED"
        print(
            f"{row.id} {row.scenario}: ours {row.ours:,.1f} {row.unit}, baseline "
            f"{row.baseline:,.1f} {row.unit}, ratio {row.ratio:.2f} ({verdict}: {row.target})"
            + (f"; {row.notes}" if row.notes else "")
        )
    for row in rows:
        print(PREFIX + json.dumps(asdict(row)), flush=True)


def parse(line: str) -> Row | None:
    if not line.startswith(PREFIX):
        return None
    return Row(**json.loads(line[len(PREFIX) :]))


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process, or of its largest ended child process with
    resource.RUSAGE_CHILDREN (Linux reports KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024
