"""Try a report (SPEC §5.3): a pasted sample read with the mapping as typed in the setup form,
each item shown with what it would become and the message it would match. Nothing is
recorded: matching only reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from callbacks.events import NormalizedEvent
from callbacks.receivers.base import Rejected

from .report_form import INBOUND_FIELDS, PATH_FIELDS
from .reports import DELIVERED, FAILED, INBOUND, ReportMapping, read

BECOMES = {
    DELIVERED: "Delivered",
    FAILED: "Failed",
    "pending": "Pending: kept, not counted",
}
# Which message an event would belong to: (message id, number) or None; one per event.
Matcher = Callable[[Sequence[NormalizedEvent]], list[tuple[int, str] | None]]


@dataclass
class TrialRow:
    status: str = ""
    becomes: str = ""
    problem: str = ""
    matched_by: str = ""
    match: str = ""
    code: str = ""
    description: str = ""
    time: str = ""


@dataclass
class Trial:
    rows: list[TrialRow] = field(default_factory=list)
    error: str = ""
    items_path: str = ""


def try_report(form, sample: str, query: str, match: Matcher | None) -> Trial:
    """Read `sample` (a request body) and `query` with the bound, validated form's mapping.
    `match` is None for a provider not saved yet (no message can be its)."""
    fields = {"reports_format", "reports_json_field", "reports_status_map", "reports_time_format"}
    fields |= {"reports_time_zone", *PATH_FIELDS, *INBOUND_FIELDS}
    if fields & set(form.errors):
        return Trial(error="Correct the delivery report fields marked above first.")
    mapping = ReportMapping.of(form.report_config())
    if not mapping.is_native:
        return Trial(error="Choose the format the provider posts: SMS Hub's own needs no mapping.")
    if not (sample.strip() or query.strip()):
        return Trial(error="Paste a sample report first.")
    try:
        items = read(
            mapping,
            body=sample.strip().encode(),
            content_type="",
            query=query.strip().lstrip("?"),
            received_at=timezone.now(),
        )
    except Rejected as exc:
        return Trial(error=exc.message)
    events = [item.event for item in items if item.event]
    matches = iter(match(events) if match else [None] * len(events))
    rows = []
    for item in items:
        if item.event is None:
            rows.append(TrialRow(status=item.status, problem=item.problem))
            continue
        rows.append(_row(item, next(matches), saved=match is not None))
    return Trial(rows, items_path=mapping.items_path)


def _row(item, found: tuple[int, str] | None, *, saved: bool) -> TrialRow:
    event = item.event
    if item.outcome == INBOUND:
        becomes = f"Reply from {event.from_phone}: “{event.text}”"
        matched_by = "the sender's number"
    else:
        becomes = BECOMES[item.outcome]
        # The number only decides between messages sharing one id (a whole request's).
        matched_by = "our message ID" if event.meta else "provider message ID"
    if found:
        match = f"Message {found[0]} to {found[1]}"
    elif saved:
        match = "No message of this provider"
    else:
        match = "Save the provider to match its messages"
    return TrialRow(
        status=item.status,
        becomes=becomes,
        matched_by=matched_by,
        match=match,
        code=event.code,
        description=event.description,
        time=event.ts.isoformat(timespec="seconds"),
    )
